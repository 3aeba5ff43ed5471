// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch: cap a device's tx_queue_len at S16_MAX (CVE-2026-98022).
 *
 * Backport of the stable fix "net: cap tx_queue_len at S16_MAX to prevent
 * oversized ring allocations" (Linux 6.1.189).  Replaces
 * dev_change_tx_queue_len() (net/core/dev.c), which sysfs
 * (/sys/class/net/<dev>/tx_queue_len) and rtnetlink (IFLA_TXQLEN) call.
 *
 * dev_qdisc_change_tx_queue_len() (net/sched/sch_generic.c) is not
 * exported to modules; it is declared in <net/sch_generic.h> and listed
 * in the manifest's spec.symbols, so the build resolves it through a
 * livepatch relocation.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/limits.h>
#include <linux/netdevice.h>
#include <linux/notifier.h>
#include <linux/version.h>
#include <net/sch_generic.h>

/* 6.1.189 and later carry the fix. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 189)
#error "the fix is part of 6.1.189 and later"
#endif

static int livepatch_dev_change_tx_queue_len(struct net_device *dev,
					     unsigned long new_len)
{
	unsigned int orig_len = dev->tx_queue_len;
	int res;

	if (new_len > S16_MAX)
		return -ERANGE;

	if (new_len != orig_len) {
		dev->tx_queue_len = new_len;
		res = call_netdevice_notifiers(NETDEV_CHANGE_TX_QUEUE_LEN, dev);
		res = notifier_to_errno(res);
		if (res)
			goto err_rollback;
		res = dev_qdisc_change_tx_queue_len(dev);
		if (res)
			goto err_rollback;
	}

	return 0;

err_rollback:
	netdev_err(dev, "refused to change device tx_queue_len\n");
	dev->tx_queue_len = orig_len;
	return res;
}

static struct klp_func funcs[] = {
	{
		.old_name = "dev_change_tx_queue_len",
		.new_func = livepatch_dev_change_tx_queue_len,
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
MODULE_DESCRIPTION("Livepatch: cap tx_queue_len at S16_MAX");
MODULE_INFO(livepatch, "Y");
