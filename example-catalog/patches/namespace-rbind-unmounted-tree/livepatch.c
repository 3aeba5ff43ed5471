// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch: refuse a recursive bind mount of an unmounted mount tree
 * (CVE-2026-98992).
 *
 * Backport of the stable fix "namespace: don't copy an unmounted mount
 * tree" (Linux 6.1.191).  __do_loopback() (fs/namespace.c), which
 * mount --rbind and open_tree(OPEN_TREE_CLONE | AT_RECURSIVE) use, let a
 * namespace file (nsfs) through although its mount is not in the
 * caller's mount namespace.  A bind mount of a namespace file that was
 * unmounted (lazily, while a file descriptor keeps it) therefore passed,
 * and copy_tree() copied a tree that is no longer mounted.  The fix
 * refuses a recursive copy of a mount that belongs to no namespace with
 * EINVAL; a non-recursive bind (one mount, no tree) is unchanged.
 *
 * Non-exported symbols of vmlinux the replacement uses, declared below and
 * in the manifest's spec.symbols: clone_mnt() (static), copy_tree() and
 * ns_dentry_operations.  has_locked_children(), which vmlinux inlines into
 * its callers, is copied unchanged.  struct mount is copied from the
 * internal fs/mount.h (the same in 6.1.176 and 6.1.187; Debian's kernels
 * do not randomize structure layouts), IS_MNT_UNBINDABLE() and
 * CL_COPY_MNT_NS_FILE from fs/pnode.h.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/dcache.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mount.h>
#include <linux/nsproxy.h>
#include <linux/path.h>
#include <linux/sched.h>
#include <linux/version.h>

/* 6.1.191 and later carry the fix. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 191)
#error "the fix is part of 6.1.191 and later"
#endif

/* From fs/mount.h. */
struct mnt_pcp;
struct mountpoint;
struct mnt_namespace;

struct mount {
	struct hlist_node mnt_hash;
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
	union {
		struct rcu_head mnt_rcu;
		struct llist_node mnt_llist;
	};
#ifdef CONFIG_SMP
	struct mnt_pcp __percpu *mnt_pcp;
#else
	int mnt_count;
	int mnt_writers;
#endif
	struct list_head mnt_mounts;	/* list of children, anchored here */
	struct list_head mnt_child;	/* and going through their mnt_child */
	struct list_head mnt_instance;	/* mount instance on sb->s_mounts */
	const char *mnt_devname;	/* Name of device e.g. /dev/dsk/hda1 */
	struct list_head mnt_list;
	struct list_head mnt_expire;	/* link in fs-specific expiry list */
	struct list_head mnt_share;	/* circular list of shared mounts */
	struct list_head mnt_slave_list;/* list of slave mounts */
	struct list_head mnt_slave;	/* slave list entry */
	struct mount *mnt_master;	/* slave is on master->mnt_slave_list */
	struct mnt_namespace *mnt_ns;	/* containing namespace */
	struct mountpoint *mnt_mp;	/* where is it mounted */
	union {
		struct hlist_node mnt_mp_list;	/* list mounts with the same mountpoint */
		struct hlist_node mnt_umount;
	};
	struct list_head mnt_umounting; /* list entry for umount propagation */
#ifdef CONFIG_FSNOTIFY
	struct fsnotify_mark_connector __rcu *mnt_fsnotify_marks;
	__u32 mnt_fsnotify_mask;
#endif
	int mnt_id;			/* mount identifier */
	int mnt_group_id;		/* peer group identifier */
	int mnt_expiry_mark;		/* true if marked for expiry */
	struct hlist_head mnt_pins;
	struct hlist_head mnt_stuck_children;
} __randomize_layout;

static inline struct mount *real_mount(struct vfsmount *mnt)
{
	return container_of(mnt, struct mount, mnt);
}

/* From fs/pnode.h. */
#define IS_MNT_UNBINDABLE(m) ((m)->mnt.mnt_flags & MNT_UNBINDABLE)
#define CL_COPY_MNT_NS_FILE	0x40

/* Not exported to modules: resolved through livepatch relocations. */
extern const struct dentry_operations ns_dentry_operations;
struct mount *copy_tree(struct mount *mnt, struct dentry *dentry, int flag);
struct mount *clone_mnt(struct mount *old, struct dentry *root, int flag);

/* From fs/namespace.c. */
static inline int check_mnt(struct mount *mnt)
{
	return mnt->mnt_ns == current->nsproxy->mnt_ns;
}

static bool has_locked_children(struct mount *mnt, struct dentry *dentry)
{
	struct mount *child;

	list_for_each_entry(child, &mnt->mnt_mounts, mnt_child) {
		if (!is_subdir(child->mnt_mountpoint, dentry))
			continue;

		if (child->mnt.mnt_flags & MNT_LOCKED)
			return true;
	}
	return false;
}

static struct mount *livepatch___do_loopback(struct path *old_path, int recurse)
{
	struct mount *mnt = ERR_PTR(-EINVAL), *old = real_mount(old_path->mnt);

	if (IS_MNT_UNBINDABLE(old))
		return mnt;

	if (!check_mnt(old) && old_path->dentry->d_op != &ns_dentry_operations)
		return mnt;

	if (recurse && !old->mnt_ns)
		return ERR_PTR(-EINVAL);

	if (!recurse && has_locked_children(old, old_path->dentry))
		return mnt;

	if (recurse)
		mnt = copy_tree(old, old_path->dentry, CL_COPY_MNT_NS_FILE);
	else
		mnt = clone_mnt(old, old_path->dentry, 0);

	if (!IS_ERR(mnt))
		mnt->mnt.mnt_flags &= ~MNT_LOCKED;

	return mnt;
}

static struct klp_func funcs[] = {
	{
		.old_name = "__do_loopback",
		.new_func = livepatch___do_loopback,
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
MODULE_DESCRIPTION("Livepatch: refuse a recursive bind mount of an unmounted mount tree");
MODULE_INFO(livepatch, "Y");
