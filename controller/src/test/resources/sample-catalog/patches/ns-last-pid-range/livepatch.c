// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch: kernel.ns_last_pid must stay below pid_max.
 *
 * Replaces pid_ns_ctl_handler() (kernel/pid_namespace.c) with a copy that
 * caps the written value at pid_max - 1 instead of pid_max.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/capability.h>
#include <linux/idr.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sysctl.h>

static int livepatch_pid_ns_ctl_handler(struct ctl_table *table, int write,
					void *buffer, size_t *lenp, loff_t *ppos)
{
	struct pid_namespace *pid_ns = task_active_pid_ns(current);
	struct ctl_table tmp = *table;
	int ret, next, max_last;

	if (write && !checkpoint_restore_ns_capable(pid_ns->user_ns))
		return -EPERM;

	next = idr_get_cursor(&pid_ns->idr) - 1;

	tmp.data = &next;
	/* The next pid is last + 1 and has to stay below pid_max. */
	max_last = *(int *)table->extra2 - 1;
	tmp.extra2 = &max_last;
	ret = proc_dointvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (!ret && write)
		idr_set_cursor(&pid_ns->idr, next + 1);

	return ret;
}

static struct klp_func funcs[] = {
	{
		.old_name = "pid_ns_ctl_handler",
		.new_func = livepatch_pid_ns_ctl_handler,
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
MODULE_DESCRIPTION("Livepatch: cap kernel.ns_last_pid at pid_max - 1");
MODULE_INFO(livepatch, "Y");
