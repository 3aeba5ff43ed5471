// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch: a bad value written to net.ipv6.conf.*.disable_ipv6 fails.
 *
 * Backport of the stable fix "ipv6: fix error handling in disable_ipv6
 * sysctl" (Linux 6.1.178).  Replaces addrconf_sysctl_disable()
 * (net/ipv6/addrconf.c), the handler of every disable_ipv6 sysctl.
 *
 * vmlinux inlines addrconf_disable_ipv6() and addrconf_disable_change()
 * into the handler, so they are copied here unchanged.  They call
 * dev_disable_change(), a static function of vmlinux: declared below and
 * in the manifest's spec.symbols, called through a livepatch relocation.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/sched/signal.h>
#include <linux/sysctl.h>
#include <linux/version.h>
#include <net/addrconf.h>
#include <net/if_inet6.h>
#include <net/net_namespace.h>

/* 6.1.178 and later carry the fix. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 178)
#error "the fix is part of 6.1.178 and later"
#endif

/* Static in net/ipv6/addrconf.c: see spec.symbols. */
void dev_disable_change(struct inet6_dev *idev);

static void addrconf_disable_change(struct net *net, __s32 newf)
{
	struct net_device *dev;
	struct inet6_dev *idev;

	for_each_netdev(net, dev) {
		idev = __in6_dev_get(dev);
		if (idev) {
			int changed = (!idev->cnf.disable_ipv6) ^ (!newf);

			WRITE_ONCE(idev->cnf.disable_ipv6, newf);
			if (changed)
				dev_disable_change(idev);
		}
	}
}

static int addrconf_disable_ipv6(struct ctl_table *table, int *p, int newf)
{
	struct net *net;
	int old;

	if (!rtnl_trylock())
		return restart_syscall();

	net = (struct net *)table->extra2;
	old = *p;
	WRITE_ONCE(*p, newf);

	if (p == &net->ipv6.devconf_dflt->disable_ipv6) {
		rtnl_unlock();
		return 0;
	}

	if (p == &net->ipv6.devconf_all->disable_ipv6) {
		WRITE_ONCE(net->ipv6.devconf_dflt->disable_ipv6, newf);
		addrconf_disable_change(net, newf);
	} else if ((!newf) ^ (!old))
		dev_disable_change((struct inet6_dev *)table->extra1);

	rtnl_unlock();
	return 0;
}

static int livepatch_addrconf_sysctl_disable(struct ctl_table *ctl, int write,
					     void *buffer, size_t *lenp,
					     loff_t *ppos)
{
	int *valp = ctl->data;
	int val = *valp;
	loff_t pos = *ppos;
	struct ctl_table lctl;
	int ret;

	/*
	 * ctl->data points to idev->cnf.disable_ipv6, we should
	 * not modify it until we get the rtnl lock.
	 */
	lctl = *ctl;
	lctl.data = &val;

	ret = proc_dointvec(&lctl, write, buffer, lenp, ppos);
	if (ret)
		return ret;

	if (write)
		ret = addrconf_disable_ipv6(ctl, valp, val);
	if (ret)
		*ppos = pos;
	return ret;
}

static struct klp_func funcs[] = {
	{
		.old_name = "addrconf_sysctl_disable",
		.new_func = livepatch_addrconf_sysctl_disable,
	},
	{ }
};

static struct klp_object objs[] = {
	{
		.name = NULL,	/* vmlinux */
		.funcs = funcs,
	},
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.replace = false,
};

static int __init livepatch_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit livepatch_exit(void)
{
}

module_init(livepatch_init);
module_exit(livepatch_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch: disable_ipv6 sysctl reports bad values");
MODULE_INFO(livepatch, "Y");
