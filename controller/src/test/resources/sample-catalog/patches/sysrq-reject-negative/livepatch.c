// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch: reject negative kernel.sysrq values
 *
 * Replaces sysrq_sysctl_handler() (kernel/sysctl.c).  The original parses
 * the value with the static __do_proc_dointvec(); the copy goes through the
 * exported proc_dointvec() on a local ctl_table whose data is the same
 * temporary, which is equivalent for this single-int table.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/sysctl.h>
#include <linux/sysrq.h>

static int livepatch_sysrq_sysctl_handler(struct ctl_table *table, int write,
					  void *buffer, size_t *lenp,
					  loff_t *ppos)
{
	struct ctl_table tbl = *table;
	int tmp, ret;

	tmp = sysrq_mask();

	tbl.data = &tmp;
	ret = proc_dointvec(&tbl, write, buffer, lenp, ppos);
	if (ret || !write)
		return ret;

	/* A negative value would set every bit of the mask, defined or not. */
	if (tmp < 0)
		return -EINVAL;

	if (write)
		sysrq_toggle_support(tmp);

	return 0;
}

static struct klp_func funcs[] = {
	{
		.old_name = "sysrq_sysctl_handler",
		.new_func = livepatch_sysrq_sysctl_handler,
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
MODULE_DESCRIPTION("Livepatch: reject negative kernel.sysrq values");
MODULE_INFO(livepatch, "Y");
