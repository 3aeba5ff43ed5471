// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch (6.1.0-50, 6.1.176): /proc/<pid>/cwd of a kernel thread
 * resolves to ENOENT.
 *
 * Replaces proc_cwd_link() (fs/proc/base.c).  In 6.1.176 the function
 * takes two arguments and looks the task up itself through
 * get_proc_task(), which lives in fs/proc/internal.h; the part of that
 * header it needs is copied below.  livepatch.c carries the variant for
 * the three-argument proc_cwd_link() of 6.1.0-53 and later.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/path.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/version.h>

/* proc_cwd_link() takes the task as third argument since 6.1.178. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 178)
#error "this variant is for kernels before 6.1.178, use livepatch.c"
#endif

/* From fs/proc/internal.h of 6.1.176: the layout must match. */
union proc_op {
	int (*proc_get_link)(struct dentry *, struct path *);
	int (*proc_show)(struct seq_file *m,
		struct pid_namespace *ns, struct pid *pid,
		struct task_struct *task);
	const char *lsm;
};

struct proc_inode {
	struct pid *pid;
	unsigned int fd;
	union proc_op op;
	struct proc_dir_entry *pde;
	struct ctl_table_header *sysctl;
	struct ctl_table *sysctl_entry;
	struct hlist_node sibling_inodes;
	const struct proc_ns_operations *ns_ops;
	struct inode vfs_inode;
} __randomize_layout;

static inline struct proc_inode *PROC_I(const struct inode *inode)
{
	return container_of(inode, struct proc_inode, vfs_inode);
}

static inline struct pid *proc_pid(const struct inode *inode)
{
	return PROC_I(inode)->pid;
}

static inline struct task_struct *get_proc_task(const struct inode *inode)
{
	return get_pid_task(proc_pid(inode), PIDTYPE_PID);
}

static int livepatch_proc_cwd_link(struct dentry *dentry, struct path *path)
{
	struct task_struct *task = get_proc_task(d_inode(dentry));
	int result = -ENOENT;

	if (task) {
		task_lock(task);
		/* Kernel threads have no working directory of their own. */
		if (task->fs && !(task->flags & PF_KTHREAD)) {
			get_fs_pwd(task->fs, path);
			result = 0;
		}
		task_unlock(task);
		put_task_struct(task);
	}
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
