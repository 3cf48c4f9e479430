"""pvops: a laboratory for x86 paravirtualization."""
