/* ALU-bound guest loop for pvops bench.
 *
 * In:  ECX = iterations, EDI = physical address of an identity-mapping page
 *      directory (paging is switched on here, so every fetch goes through
 *      the TLB like a kernel's would).
 * Out: EAX/EBX/EDX/ESI = a checksum of the work; halts.
 * Per iteration: 16 ALU instructions + dec + jnz.
 */
        .text
        .globl  _start
_start:
        mov     %edi, %cr3
        mov     %cr0, %eax
        or      $0x80000000, %eax
        mov     %eax, %cr0
        mov     $0x12345678, %eax
        mov     $0x9abcdef0, %ebx
        xor     %edx, %edx
        mov     $7, %esi
1:
        add     %ebx, %eax
        xor     %eax, %edx
        rol     $5, %edx
        sub     %esi, %ebx
        lea     3(%eax,%edx,2), %esi
        and     $0x7fffffff, %esi
        adc     %edx, %ebx
        shr     $3, %eax
        or      %esi, %eax
        imul    %esi, %edx
        cmp     %ebx, %eax
        setb    %dl
        movzbl  %dl, %ebp
        add     %ebp, %esi
        not     %ebx
        inc     %esi
        dec     %ecx
        jnz     1b
        .globl  __halt
__halt:
        hlt
