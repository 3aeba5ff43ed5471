// SPDX-License-Identifier: GPL-2.0
/*
 * Test livepatch: cmdline_proc_show() reaching three symbols vmlinux does not export, through
 * livepatch relocations: a variable, a static function and a static array whose name is not
 * unique (spec.symbols gives its sympos).
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

int version_proc_show(struct seq_file *m, void *v);
extern const char _acpi_module_name[];

static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, saved_command_line);
	seq_printf(m, " klp-relocated acpi=%s\n", _acpi_module_name);
	version_proc_show(m, v);
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = livepatch_cmdline_proc_show, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int livepatch_init(void)
{
	return klp_enable_patch(&patch);
}

static void livepatch_exit(void)
{
}

module_init(livepatch_init);
module_exit(livepatch_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
