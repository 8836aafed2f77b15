/*
 * pcm-info: what the guest sees of its CPU (CPUID vendor, family/model/stepping, feature
 * flags) and a few x87 floating-point results to compare with a real i686.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

static struct cpuid_regs cpuid(uint32_t leaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(0));
    return r;
}

/* CPUID exists when EFLAGS.ID (bit 21) can be toggled. */
static int have_cpuid(void)
{
    uint32_t before, after;
    __asm__ volatile(
        "pushfl\n\t"
        "popl %0\n\t"
        "movl %0, %1\n\t"
        "xorl $0x200000, %1\n\t"
        "pushl %1\n\t"
        "popfl\n\t"
        "pushfl\n\t"
        "popl %1\n\t"
        "pushl %0\n\t"
        "popfl"
        : "=&r"(before), "=&r"(after)
        :
        : "cc");
    return ((before ^ after) & 0x200000) != 0;
}

/* CPUID leaf 1 EDX feature names (Intel SDM Vol. 2A, CPUID, Table 3-11). */
static const char *const edx_flags[32] = {
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", NULL, "sep",
    "mtrr", "pge", "mca", "cmov", "pat", "pse36", "pn", "clflush", NULL, "dts", "acpi", "mmx",
    "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe",
};
/* CPUID leaf 1 ECX feature names (Table 3-10). */
static const char *const ecx_flags[32] = {
    "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2", "ssse3",
    "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm", NULL, "pcid", "dca", "sse4_1", "sse4_2",
    "x2apic", "movbe", "popcnt", "tsc_deadline_timer", "aes", "xsave", "osxsave", "avx",
    "f16c", "rdrand", "hypervisor",
};

static void print_flags(const char *const names[32], uint32_t bits)
{
    for (int i = 0; i < 32; i++) {
        if (!(bits & (1u << i))) continue;
        if (names[i]) printf(" %s", names[i]);
        else printf(" bit%d", i);
    }
}

int main(void)
{
    if (!have_cpuid()) {
        printf("cpuid: not supported (EFLAGS.ID is fixed)\n");
    } else {
        struct cpuid_regs r0 = cpuid(0);
        char vendor[13];
        memcpy(vendor, &r0.ebx, 4);
        memcpy(vendor + 4, &r0.edx, 4);
        memcpy(vendor + 8, &r0.ecx, 4);
        vendor[12] = 0;
        printf("vendor:     %s\n", vendor);
        printf("max leaf:   %u\n", r0.eax);
        if (r0.eax >= 1) {
            struct cpuid_regs r1 = cpuid(1);
            uint32_t stepping = r1.eax & 0xf;
            uint32_t model = (r1.eax >> 4) & 0xf;
            uint32_t family = (r1.eax >> 8) & 0xf;
            /* extended family/model (SDM: CPUID leaf 1 EAX, "display family/model") */
            uint32_t display_family = family == 0xf ? family + ((r1.eax >> 20) & 0xff) : family;
            uint32_t display_model = (family == 0x6 || family == 0xf) ? model | (((r1.eax >> 16) & 0xf) << 4) : model;
            printf("family:     %u\nmodel:      %u\nstepping:   %u\n", display_family, display_model, stepping);
            printf("signature:  0x%08x\n", r1.eax);
            printf("flags:     ");
            print_flags(edx_flags, r1.edx);
            print_flags(ecx_flags, r1.ecx);
            printf("\n");
        }
        struct cpuid_regs e0 = cpuid(0x80000000u);
        if (e0.eax >= 0x80000004u) {
            char brand[49];
            for (uint32_t i = 0; i < 3; i++) {
                struct cpuid_regs b = cpuid(0x80000002u + i);
                memcpy(brand + 16 * i, &b, 16);
            }
            brand[48] = 0;
            const char *p = brand;
            while (*p == ' ') p++;
            printf("brand:      %s\n", p);
        }
    }

    /* x87 arithmetic: results printed with enough digits to expose a wrong rounding. */
    volatile double two = 2.0, one = 1.0;
    double pi = 0.0;
    /* pi by the Bailey-Borwein-Plouffe series */
    double sixteen_k = 1.0;
    for (int k = 0; k < 12; k++) {
        double k8 = 8.0 * k;
        pi += (4.0 / (k8 + 1) - 2.0 / (k8 + 4) - 1.0 / (k8 + 5) - 1.0 / (k8 + 6)) / sixteen_k;
        sixteen_k *= 16.0;
    }
    double harmonic = 0.0;
    for (int n = 1; n <= 1000; n++) harmonic += 1.0 / n;
    printf("sqrt(2)     = %.15f\n", sqrt(two));
    printf("pi (BBP)    = %.15f\n", pi);
    printf("sin(1)      = %.15f\n", sin(one));
    printf("cos(1)      = %.15f\n", cos(one));
    printf("exp(1)      = %.15f\n", exp(one));
    printf("log(2)      = %.15f\n", log(two));
    printf("atan(1)*4   = %.15f\n", atan(one) * 4.0);
    printf("H(1000)     = %.15f\n", harmonic);
    printf("1/3 (float) = %.9g\n", (float)(one / 3.0));
    return 0;
}
