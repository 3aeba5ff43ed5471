// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch (6.1.0-53 and later): /proc/<pid>/cwd of a kernel thread
 * resolves to ENOENT.
 *
 * Replaces proc_cwd_link() (fs/proc/base.c).  Since the 6.1.178 stable
 * backports "proc: protect ptrace_may_access() with exec_update_lock" the
 * caller looks the task up and passes it in, so the function takes three
 * arguments; livepatch-6.1.176.c carries the two-argument variant.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/fs_struct.h>
#include <linux/path.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/version.h>

/* proc_cwd_link() takes the task as third argument since 6.1.178. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 178)
#error "this variant is for 6.1.178 and later, use livepatch-6.1.176.c"
#endif

static int livepatch_proc_cwd_link(struct dentry *dentry, struct path *path,
				   struct task_struct *task)
{
	int result = -ENOENT;

	task_lock(task);
	/* Kernel threads have no working directory of their own. */
	if (task->fs && !(task->flags & PF_KTHREAD)) {
		get_fs_pwd(task->fs, path);
		result = 0;
	}
	task_unlock(task);
	return result;
}

static struct klp_func funcs[] = {
	{
		.old_name = "proc_cwd_link",
		.new_func = livepatch_proc_cwd_link,
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
MODULE_DESCRIPTION("Livepatch: /proc/<pid>/cwd of kernel threads is ENOENT");
MODULE_INFO(livepatch, "Y");
