// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch: a /proc directory counts only its subdirectories in nlink.
 *
 * Backport of the stable fix "proc: only bump parent nlink when
 * registering directories" (Linux 6.1.178).  proc_register() raised the
 * parent's link count for every entry, files included, while removal
 * lowered it for directories only.  The fix moves the increment into
 * pde_subdir_insert() and the decrement into pde_erase(), both for
 * directories only.  vmlinux inlines those two static helpers into their
 * callers, so the livepatch replaces the callers: proc_register(),
 * remove_proc_entry() and remove_proc_subtree() (fs/proc/generic.c).
 *
 * Non-exported symbols of vmlinux the copies use, declared below and in
 * the manifest's spec.symbols: the static proc_subdir_lock,
 * __xlate_proc_name() and pde_subdir_find(), and proc_alloc_inum(),
 * proc_free_inum(), pde_free(), pde_put() and proc_entry_rundown().
 * struct proc_dir_entry and pde_is_permanent() are copied from the
 * internal fs/proc/internal.h (the same in 6.1.176 and 6.1.187; Debian's
 * kernels do not randomize structure layouts).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/proc_fs.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/version.h>

/* 6.1.178 and later carry the fix. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 178)
#error "the fix is part of 6.1.178 and later"
#endif

/* From fs/proc/internal.h. */
struct proc_dir_entry {
	/*
	 * number of callers into module in progress;
	 * negative -> it's going away RSN
	 */
	atomic_t in_use;
	refcount_t refcnt;
	struct list_head pde_openers;	/* who did ->open, but not ->release */
	/* protects ->pde_openers and all struct pde_opener instances */
	spinlock_t pde_unload_lock;
	struct completion *pde_unload_completion;
	const struct inode_operations *proc_iops;
	union {
		const struct proc_ops *proc_ops;
		const struct file_operations *proc_dir_ops;
	};
	const struct dentry_operations *proc_dops;
	union {
		const struct seq_operations *seq_ops;
		int (*single_show)(struct seq_file *, void *);
	};
	proc_write_t write;
	void *data;
	unsigned int state_size;
	unsigned int low_ino;
	nlink_t nlink;
	kuid_t uid;
	kgid_t gid;
	loff_t size;
	struct proc_dir_entry *parent;
	struct rb_root subdir;
	struct rb_node subdir_node;
	char *name;
	umode_t mode;
	u8 flags;
	u8 namelen;
	char inline_name[];
} __randomize_layout;

static inline bool pde_is_permanent(const struct proc_dir_entry *pde)
{
	return pde->flags & PROC_ENTRY_PERMANENT;
}

/* Non-exported symbols of vmlinux: see spec.symbols. */
extern rwlock_t proc_subdir_lock;
int proc_alloc_inum(unsigned int *inum);
void proc_free_inum(unsigned int inum);
void pde_free(struct proc_dir_entry *pde);
void pde_put(struct proc_dir_entry *pde);
void proc_entry_rundown(struct proc_dir_entry *de);
int __xlate_proc_name(const char *name, struct proc_dir_entry **ret,
		      const char **residual);
struct proc_dir_entry *pde_subdir_find(struct proc_dir_entry *dir,
				       const char *name, unsigned int len);

/* From fs/proc/generic.c, with the fix. */
static int proc_match(const char *name, struct proc_dir_entry *de, unsigned int len)
{
	if (len < de->namelen)
		return -1;
	if (len > de->namelen)
		return 1;

	return memcmp(name, de->name, len);
}

static struct proc_dir_entry *pde_subdir_first(struct proc_dir_entry *dir)
{
	return rb_entry_safe(rb_first(&dir->subdir), struct proc_dir_entry,
			     subdir_node);
}

static bool pde_subdir_insert(struct proc_dir_entry *dir,
			      struct proc_dir_entry *de)
{
	struct rb_root *root = &dir->subdir;
	struct rb_node **new = &root->rb_node, *parent = NULL;

	/* Figure out where to put new node */
	while (*new) {
		struct proc_dir_entry *this = rb_entry(*new,
						       struct proc_dir_entry,
						       subdir_node);
		int result = proc_match(de->name, this, de->namelen);

		parent = *new;
		if (result < 0)
			new = &(*new)->rb_left;
		else if (result > 0)
			new = &(*new)->rb_right;
		else
			return false;
	}

	/* Add new node and rebalance tree. */
	rb_link_node(&de->subdir_node, parent, new);
	rb_insert_color(&de->subdir_node, root);
	if (S_ISDIR(de->mode))
		dir->nlink++;
	return true;
}

static void pde_set_flags(struct proc_dir_entry *pde)
{
	const struct proc_ops *proc_ops = pde->proc_ops;

	if (!proc_ops)
		return;

	if (proc_ops->proc_flags & PROC_ENTRY_PERMANENT)
		pde->flags |= PROC_ENTRY_PERMANENT;
	if (proc_ops->proc_read_iter)
		pde->flags |= PROC_ENTRY_proc_read_iter;
#ifdef CONFIG_COMPAT
	if (proc_ops->proc_compat_ioctl)
		pde->flags |= PROC_ENTRY_proc_compat_ioctl;
#endif
	if (proc_ops->proc_lseek)
		pde->flags |= PROC_ENTRY_proc_lseek;
}

static void pde_erase(struct proc_dir_entry *pde, struct proc_dir_entry *parent)
{
	rb_erase(&pde->subdir_node, &parent->subdir);
	RB_CLEAR_NODE(&pde->subdir_node);
	if (S_ISDIR(pde->mode))
		parent->nlink--;
}

static struct proc_dir_entry *livepatch_proc_register(struct proc_dir_entry *dir,
		struct proc_dir_entry *dp)
{
	if (proc_alloc_inum(&dp->low_ino))
		goto out_free_entry;

	if (!S_ISDIR(dp->mode))
		pde_set_flags(dp);

	write_lock(&proc_subdir_lock);
	dp->parent = dir;
	if (pde_subdir_insert(dir, dp) == false) {
		WARN(1, "proc_dir_entry '%s/%s' already registered\n",
		     dir->name, dp->name);
		write_unlock(&proc_subdir_lock);
		goto out_free_inum;
	}
	write_unlock(&proc_subdir_lock);

	return dp;
out_free_inum:
	proc_free_inum(dp->low_ino);
out_free_entry:
	pde_free(dp);
	return NULL;
}

static void livepatch_remove_proc_entry(const char *name, struct proc_dir_entry *parent)
{
	struct proc_dir_entry *de = NULL;
	const char *fn = name;
	unsigned int len;

	write_lock(&proc_subdir_lock);
	if (__xlate_proc_name(name, &parent, &fn) != 0) {
		write_unlock(&proc_subdir_lock);
		return;
	}
	len = strlen(fn);

	de = pde_subdir_find(parent, fn, len);
	if (de) {
		if (unlikely(pde_is_permanent(de))) {
			WARN(1, "removing permanent /proc entry '%s'", de->name);
			de = NULL;
		} else {
			pde_erase(de, parent);
		}
	}
	write_unlock(&proc_subdir_lock);
	if (!de) {
		WARN(1, "name '%s'\n", name);
		return;
	}

	proc_entry_rundown(de);

	WARN(pde_subdir_first(de),
	     "%s: removing non-empty directory '%s/%s', leaking at least '%s'\n",
	     __func__, de->parent->name, de->name, pde_subdir_first(de)->name);
	pde_put(de);
}

static int livepatch_remove_proc_subtree(const char *name, struct proc_dir_entry *parent)
{
	struct proc_dir_entry *root = NULL, *de, *next;
	const char *fn = name;
	unsigned int len;

	write_lock(&proc_subdir_lock);
	if (__xlate_proc_name(name, &parent, &fn) != 0) {
		write_unlock(&proc_subdir_lock);
		return -ENOENT;
	}
	len = strlen(fn);

	root = pde_subdir_find(parent, fn, len);
	if (!root) {
		write_unlock(&proc_subdir_lock);
		return -ENOENT;
	}
	if (unlikely(pde_is_permanent(root))) {
		write_unlock(&proc_subdir_lock);
		WARN(1, "removing permanent /proc entry '%s/%s'",
			root->parent->name, root->name);
		return -EINVAL;
	}
	pde_erase(root, parent);

	de = root;
	while (1) {
		next = pde_subdir_first(de);
		if (next) {
			if (unlikely(pde_is_permanent(next))) {
				write_unlock(&proc_subdir_lock);
				WARN(1, "removing permanent /proc entry '%s/%s'",
					next->parent->name, next->name);
				return -EINVAL;
			}
			pde_erase(next, de);
			de = next;
			continue;
		}
		next = de->parent;
		write_unlock(&proc_subdir_lock);

		proc_entry_rundown(de);
		if (de == root)
			break;
		pde_put(de);

		write_lock(&proc_subdir_lock);
		de = next;
	}
	pde_put(root);
	return 0;
}

static struct klp_func funcs[] = {
	{
		.old_name = "proc_register",
		.new_func = livepatch_proc_register,
	},
	{
		.old_name = "remove_proc_entry",
		.new_func = livepatch_remove_proc_entry,
	},
	{
		.old_name = "remove_proc_subtree",
		.new_func = livepatch_remove_proc_subtree,
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
MODULE_DESCRIPTION("Livepatch: /proc directories count only subdirectories");
MODULE_INFO(livepatch, "Y");
