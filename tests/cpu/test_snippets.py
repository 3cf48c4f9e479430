"""Curated GNU as snippets (the idioms gcc and kernels emit), assembled with
``as --32`` (cached) and compared with unicorn in lockstep from random states.

Snippets may use EAX, ECX, EDX freely and EBX/ESI/EDI/EBP as pointers into
the data area (see cpu_oracle.layout); jumps must be local.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import pytest
from cpu_oracle import gen
from cpu_oracle.fuzz import examples
from cpu_oracle.harness import Case, Rejected, check_case
from hypothesis import assume, given

from pvops.bench.build import assemble

SNIPPETS = {
    "memset_rep_stosl": """
        mov $13, %ecx
        rep stosl
        mov $3, %ecx
        rep stosb
    """,
    "strlen_repne_scasb": """
        movb $0, 40(%edi)
        xor %eax, %eax
        mov $-1, %ecx
        repne scasb
        not %ecx
        dec %ecx
    """,
    "memcmp_repe_cmpsb": """
        mov $16, %ecx
        repe cmpsb
        seta %al
        setb %dl
        sub %dl, %al
        movsbl %al, %eax
    """,
    "abs_cdq_xor_sub": """
        cdq
        xor %edx, %eax
        sub %edx, %eax
    """,
    "udiv64_by_const_mul": """
        mov $0xCCCCCCCD, %edx
        mul %edx
        shr $3, %edx
        mov %edx, %eax
    """,
    "shift64_shld_shrd": """
        shld %cl, %eax, %edx
        shl %cl, %eax
        test $32, %cl
        je 1f
        mov %eax, %edx
        xor %eax, %eax
    1:  shrd $7, %edx, %eax
        sar $7, %edx
    """,
    "add64_adc_sbb": """
        add $0x89ABCDEF, %eax
        adc $0x01234567, %edx
        sub (%ebx), %eax
        sbb 4(%ebx), %edx
        neg %eax
        adc $0, %edx
        neg %edx
    """,
    "bounded_loop_sum": """
        and $15, %ecx
        inc %ecx
        xor %eax, %eax
    1:  add (%esi,%ecx,4), %eax
        rol $3, %eax
        loop 1b
    """,
    "switch_jump_table": """
        and $3, %eax
        call 1f
    1:  pop %edx
        lea (2f - 1b)(%edx), %ecx
        jmp *%ecx
    2:  lea 1(%eax), %eax
    """,
    "frame_enter_leave_call": """
        push %ebp
        mov %esp, %ebp
        sub $16, %esp
        mov %eax, -4(%ebp)
        call 1f
        jmp 2f
    1:  push %ebp
        mov %esp, %ebp
        movl $7, -8(%ebp)
        imul -8(%ebp), %eax
        leave
        ret
    2:  add -4(%ebp), %eax
        leave
    """,
    "atomics_lock": """
        lock xaddl %eax, (%ebx)
        mov %eax, %edx
        lock cmpxchgl %edx, 8(%ebx)
        lock incl 12(%ebx)
        lock btsl $5, 16(%ebx)
        sbb %ecx, %ecx
    """,
    "bit_scan_and_bswap": """
        bsf %eax, %ecx
        jz 1f
        bsr %eax, %edx
        btc %ecx, %edx
    1:  bswap %eax
        xchg %ah, %al
        cmovs %eax, %edx
    """,
    "pushf_popf_flags_roundtrip": """
        pushf
        stc
        std
        pushf
        pop %eax
        popf
        lahf
        sahf
        cmc
        cld
    """,
    "pusha_popa_nop_padding": """
        pusha
        xor %eax, %eax
        .p2align 4
        mov $5, %ecx
        .p2align 3, 0x90
        popa
        nopw 0(%eax,%eax,1)
        nopl 0(%eax)
    """,
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def testSnippet_randomStates_matchUnicorn(name: str) -> None:
    """A curated snippet behaves exactly as on unicorn from random register states."""
    code = assemble(".text\n" + SNIPPETS[name]).data

    @examples(12)
    @given(regs=gen.initial_regs(), eflags=gen.initial_eflags())
    def inner(regs: dict[str, int], eflags: int) -> None:
        try:
            check_case(Case(code=code, regs=regs, eflags=eflags, note=name))
        except Rejected:
            assume(False)

    inner()
