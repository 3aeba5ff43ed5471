// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch: log changes of kernel.dmesg_restrict and kernel.kptr_restrict.
 *
 * Replaces proc_dointvec_minmax_sysadmin() (kernel/printk/sysctl.c).  The
 * in-tree fix uses pr_notice_ratelimited(), i.e. a ratelimit_state owned by
 * the function.  Here that state is a livepatch system state: pre_patch
 * allocates it and publishes it as klp_state KLP_STATE_PRINTK_AUDIT version
 * 1, post_unpatch frees it.  A later livepatch of this function declares
 * the same state id, so the livepatch core can tell whether the two agree
 * on what the state holds (the version) before stacking or replacing.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/capability.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sysctl.h>

#define KLP_STATE_PRINTK_AUDIT	1
#define KLP_STATE_PRINTK_AUDIT_VERSION	1

static struct klp_patch patch;

static int livepatch_proc_dointvec_minmax_sysadmin(struct ctl_table *table,
						   int write, void *buffer,
						   size_t *lenp, loff_t *ppos)
{
	if (write && !capable(CAP_SYS_ADMIN))
		return -EPERM;

	if (write) {
		int old = *(int *)table->data;
		int ret = proc_dointvec_minmax(table, write, buffer, lenp, ppos);
		struct klp_state *state;

		state = klp_get_state(&patch, KLP_STATE_PRINTK_AUDIT);
		/* Leave a trace of who relaxed or tightened the restriction. */
		if (!ret && old != *(int *)table->data &&
		    state && state->data && __ratelimit(state->data))
			pr_notice("sysctl: %s changed from %d to %d by %s[%d]\n",
				  table->procname, old, *(int *)table->data,
				  current->comm, task_pid_nr(current));
		return ret;
	}

	return proc_dointvec_minmax(table, write, buffer, lenp, ppos);
}

/* Allocate the rate limit state before any task runs the new code. */
static int audit_pre_patch(struct klp_object *obj)
{
	struct klp_state *state = klp_get_state(&patch, KLP_STATE_PRINTK_AUDIT);
	struct ratelimit_state *rs;

	if (!state)
		return -EINVAL;

	rs = kzalloc(sizeof(*rs), GFP_KERNEL);
	if (!rs)
		return -ENOMEM;
	ratelimit_state_init(rs, DEFAULT_RATELIMIT_INTERVAL,
			     DEFAULT_RATELIMIT_BURST);
	state->data = rs;
	return 0;
}

/* No task runs the new code any more: the state can go. */
static void audit_post_unpatch(struct klp_object *obj)
{
	struct klp_state *state = klp_get_state(&patch, KLP_STATE_PRINTK_AUDIT);

	if (!state)
		return;
	kfree(state->data);
	state->data = NULL;
}

static struct klp_func funcs[] = {
	{
		.old_name = "proc_dointvec_minmax_sysadmin",
		.new_func = livepatch_proc_dointvec_minmax_sysadmin,
	},
	{ }
};

static struct klp_object objs[] = {
	{
		.name = NULL,	/* vmlinux */
		.funcs = funcs,
		.callbacks = {
			.pre_patch = audit_pre_patch,
			.post_unpatch = audit_post_unpatch,
		},
	},
	{ }
};

static struct klp_state states[] = {
	{
		.id = KLP_STATE_PRINTK_AUDIT,
		.version = KLP_STATE_PRINTK_AUDIT_VERSION,
	},
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.states = states,
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
MODULE_DESCRIPTION("Livepatch: log changes of dmesg_restrict/kptr_restrict");
MODULE_INFO(livepatch, "Y");
