/* vmi/vmi.c: find a VMI ROM and patch the kernel's VMI sites to use it.
 *
 * V:040 This is Linux 2.6.21's probe_vmi_rom() + vmi_init() + the RFC's
 * scan_annotations(), in one file.  The kernel carries no hypervisor code:
 * the ROM, supplied by whoever runs us, knows the hypervisor.  With no ROM
 * (bare metal, or a hypervisor that offers none) nothing changes and the
 * native instructions at every site run: the base ABI.
 *
 * The probe is read-only and bounded: it looks at 64 candidate addresses,
 * each through the direct map, and accepts a ROM only if every check passes;
 * a half-valid ROM is reported and ignored, never executed. */
#include "kernel.h"
#include "paravirt.h"
#include "vmi.h"

extern struct vmi_annotation __vmi_annotations[], __vmi_annotations_end[];
static struct vrom_header *vmi_rom;

static int license_ok(const struct vrom_header *rom)
{
	const char *lic;

	if (!rom->license_offs || rom->license_offs >= rom->rom_length * 512u)
		return 0;
	lic = (const char *)rom + rom->license_offs;
	return streq(lic, "GPL") || streq(lic, "GPL v2");
}

static struct vrom_header *probe_vmi_rom(void)
{
	for (u32 base = VMI_ROM_START; base < VMI_ROM_END; base += VMI_ROM_STEP) {
		struct vrom_header *rom = __va(base);
		const struct pci_header *pci;

		if (rom->rom_signature != 0xaa55 || rom->vrom_signature != VMI_SIGNATURE)
			continue;
		if (rom->rom_length == 0 || base + rom->rom_length * 512u > VMI_ROM_END ||
		    rom->rom_length * 512u < sizeof(*rom)) {
			printk("vmi: ROM at %x has a bad length\n", base);
			continue;
		}
		if (rom->api_version_maj != VMI_API_REV_MAJOR) {
			printk("vmi: ROM at %x is VMI %u.%u, need %u.x\n", base, rom->api_version_maj,
			       rom->api_version_min, VMI_API_REV_MAJOR);
			continue;
		}
		if (!rom->pci_header_offs || rom->pci_header_offs + sizeof(*pci) > rom->rom_length * 512u) {
			printk("vmi: ROM at %x has no PCI header\n", base);
			continue;
		}
		pci = (const struct pci_header *)((const char *)rom + rom->pci_header_offs);
		if (pci->vendorID != PCI_VENDOR_ID_VMWARE || pci->deviceID != PCI_DEVICE_ID_VMWARE_VMI)
			printk("vmi: ROM at %x: unexpected PCI id %x:%x (continuing)\n", base,
			       pci->vendorID, pci->deviceID);
		if (!license_ok(rom)) {
			printk("vmi: ROM at %x: license is not GPL, refused\n", base);
			continue;
		}
		return rom;
	}
	return NULL;
}

/* The ROM's code is called through its header, as Linux's call_vrom_func:
 * `call` to the 8-byte code field itself. */
static u32 rom_init(struct vrom_header *rom)
{
	u32 r, d, c;

	asm volatile("call *%3" : "=a"(r), "=d"(d), "=c"(c) : "r"(rom->vmi_init) : "memory", "cc");
	return r;
}

static struct vmi_relocation_info rom_get_reloc(struct vrom_header *rom, u32 call)
{
	union {
		u64 raw;
		struct vmi_relocation_info info;
	} u;
	u32 c;

	asm volatile("call *%2" : "=A"(u.raw), "=c"(c) : "r"(rom->get_reloc), "a"(call) : "memory", "cc");
	return u.info;
}

static void put_rel32(u8 *site, u8 opcode, u32 target)
{
	site[0] = opcode;
	*(u32 *)(site + 1) = target - ((u32)site + 5);
}

/* V:050 Rewrite one site per its relocation: CALL_REL -> call rel32,
 * JUMP_REL -> jmp rel32, NOP -> all NOPs, NONE -> keep the native bytes.
 * The rest of the site is NOP-filled (single-byte NOPs: patched sites are
 * rare enough that their padding does not matter). */
/* V:045 Pad with as few NOP instructions as possible (the P6 long NOPs, as
 * Linux's add_nops): a NOP-relocated site then costs one instruction, not
 * one per byte, so a ROM that blanks a site is as cheap as the blank. */
static const u8 p6_nops[9][8] = {
	{0},
	{0x90},
	{0x66, 0x90},
	{0x0f, 0x1f, 0x00},
	{0x0f, 0x1f, 0x40, 0x00},
	{0x0f, 0x1f, 0x44, 0x00, 0x00},
	{0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
	{0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
	{0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
};

static void add_nops(u8 *p, u32 len)
{
	while (len > 0) {
		u32 n = len > 8 ? 8 : len;

		for (u32 i = 0; i < n; i++)
			p[i] = p6_nops[n][i];
		p += n;
		len -= n;
	}
}

static int patch_site(const struct vmi_annotation *a, struct vmi_relocation_info r)
{
	u8 *site = (u8 *)a->site;
	u32 used;

	switch (r.type) {
	case VMI_RELOCATION_CALL_REL:
		if (a->flags & VMI_ANNOT_JUMP)
			return -1;	/* a jump site cannot return into itself */
		put_rel32(site, 0xE8, r.eip);
		used = 5;
		break;
	case VMI_RELOCATION_JUMP_REL:
		put_rel32(site, 0xE9, r.eip);
		used = 5;
		break;
	case VMI_RELOCATION_NOP:
		used = 0;
		break;
	case VMI_RELOCATION_NONE:
		return 0;
	default:
		return -1;
	}
	if (a->len < used)
		return -1;
	add_nops(site + used, a->len - used);
	return 1;
}

void vmi_init(void)
{
	u32 patched = 0, kept = 0, bad = 0;
	struct vmi_annotation *a;

	kernel_rpl = native_read_cs() & 3;
	vmi_rom = probe_vmi_rom();
	if (!vmi_rom) {
		printk("vmi: no ROM, running the native base ABI\n");
		return;
	}
	printk("vmi: ROM at %x, VMI %u.%u\n", __pa(vmi_rom), vmi_rom->api_version_maj,
	       vmi_rom->api_version_min);
	if (rom_init(vmi_rom) != 0) {
		printk("vmi: ROM failed to initialize, running native\n");
		vmi_rom = NULL;
		return;
	}
	/* The ROM may have moved us to ring 1: believe CS, as activate_vmi(). */
	kernel_rpl = native_read_cs() & 3;
#ifdef CONFIG_PARAVIRT_VMI
	/* A pvops kernel with the vmi backend: the backend's arch_setup is
	 * activate_vmi(), which points pv_ops[] at the ROM's calls (and the
	 * wrappers its relocation info asks for) and patches the call sites
	 * again, as Linux 2.6.21's activate_vmi() + apply_paravirt(). */
	paravirt_arch_setup();
	printk("vmi: pv_ops now run through the ROM; kernel_rpl=%u\n", pv_info.kernel_rpl);
	return;
#endif
	for (a = __vmi_annotations; a < __vmi_annotations_end; a++) {
		int r = patch_site(a, rom_get_reloc(vmi_rom, a->call));

		if (r > 0)
			patched++;
		else if (r == 0)
			kept++;
		else
			bad++;
	}
	/* Serialize: the CPU must not run stale bytes of a patched site. */
	{
		u32 eax = 0, ebx, ecx = 0, edx;
		asm volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx) : : "memory");
	}
	printk("vmi: %u sites patched, %u native, %u refused; kernel_rpl=%u\n", patched, kept, bad,
	       kernel_rpl);
}
