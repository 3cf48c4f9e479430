/* notes.S: the image's pvops notes (see elfnote.h, N:010). */
#include "elfnote.h"
#include "paravirt_types.h"
#include "build_config.h"

	ELFNOTE(pvops, "PVOPS", PVOPS_NOTE_FLAVOUR, .asciz PVOPS_FLAVOUR)
	ELFNOTE(pvops, "PVOPS", PVOPS_NOTE_CONFIG, .asciz PVOPS_CONFIG)
#if defined(CONFIG_PARAVIRT)
	ELFNOTE(pvops, "PVOPS", PVOPS_NOTE_OPS, .asciz PVOPS_OP_TABLE)
	ELFNOTE(pvops, "PVOPS", PVOPS_NOTE_SITE_LEN, .long PV_SITE_LEN)
#elif defined(CONFIG_VMI)
	ELFNOTE(pvops, "PVOPS", PVOPS_NOTE_SITE_LEN, .long VMI_SITE_LEN)
#endif
