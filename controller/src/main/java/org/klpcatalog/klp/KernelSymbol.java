package org.klpcatalog.klp;

/**
 * One symbol of a kernel object as the livepatch core sees it: its name, its address (vmlinux: the
 * running kernel's, without KASLR offset removed; a module: the offset in its section), kallsyms'
 * one-letter type, and the source file that defines it where known ({@code ""} when the table does
 * not say).
 */
public record KernelSymbol(String name, long address, char type, String file) {}
