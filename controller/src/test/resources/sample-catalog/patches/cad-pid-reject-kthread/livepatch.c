// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch: kernel.cad_pid must not name a kernel thread.
 *
 * Replaces proc_do_cad_pid() (kernel/sysctl.c).  The original parses the
 * value with the static __do_proc_dointvec(); the copy goes through the
 * exported proc_dointvec() on a local ctl_table whose data is the same
 * temporary, which is equivalent for this single-int table.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sysctl.h>

static int livepatch_proc_do_cad_pid(struct ctl_table *table, int write,
				     void *buffer, size_t *lenp, loff_t *ppos)
{
	struct ctl_table tbl = *table;
	struct pid *new_pid;
	pid_t tmp;
	int r;
	struct task_struct *task;
	bool kthread;

	tmp = pid_vnr(cad_pid);

	tbl.data = &tmp;
	r = proc_dointvec(&tbl, write, buffer, lenp, ppos);
	if (r || !write)
		return r;

	new_pid = find_get_pid(tmp);
	if (!new_pid)
		return -ESRCH;

	/* Kernel threads ignore SIGINT, ctrl-alt-del would be lost. */
	rcu_read_lock();
	task = pid_task(new_pid, PIDTYPE_PID);
	kthread = task && (task->flags & PF_KTHREAD);
	rcu_read_unlock();
	if (kthread) {
		put_pid(new_pid);
		return -EINVAL;
	}

	put_pid(xchg(&cad_pid, new_pid));
	return 0;
}

static struct klp_func funcs[] = {
	{
		.old_name = "proc_do_cad_pid",
		.new_func = livepatch_proc_do_cad_pid,
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
MODULE_DESCRIPTION("Livepatch: reject kernel threads as kernel.cad_pid");
MODULE_INFO(livepatch, "Y");
