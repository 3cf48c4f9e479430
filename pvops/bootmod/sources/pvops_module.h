/* pvops_module.h: what a boot module declares (see pvops/bootmod/__init__.py). */
#ifndef PVOPS_MODULE_H
#define PVOPS_MODULE_H
#include "pv_ops_numbers.h"	/* generated from the host's op registry */

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define PVOPS_MODULE_END 0xFFFFFFFFu

struct pvops_module_op {
	u32 op;
	void *fn;
};

/* The table the loader reads: one entry per replaced op, then the end. */
#define PVOPS_MODULE_OPS(...)						\
	const struct pvops_module_op pvops_module_ops[]			\
	__attribute__((used, section(".pvops_module_ops"))) = {		\
		__VA_ARGS__, { PVOPS_MODULE_END, 0 } }
#endif
