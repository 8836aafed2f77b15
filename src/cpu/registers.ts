/** General-purpose register indices as encoded in ModRM.reg / ModRM.rm (SDM Vol. 2, Table 2-2). */
export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

/** Segment register indices as encoded in ModRM.reg for MOV Sreg (SDM Vol. 2, 3.1.1.3). */
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

/** EFLAGS bits (SDM Vol. 1, 3.4.3). */
export const FLAG_CF = 1 << 0;
export const FLAG_FIXED1 = 1 << 1;
export const FLAG_PF = 1 << 2;
export const FLAG_AF = 1 << 4;
export const FLAG_ZF = 1 << 6;
export const FLAG_SF = 1 << 7;
export const FLAG_TF = 1 << 8;
export const FLAG_IF = 1 << 9;
export const FLAG_DF = 1 << 10;
export const FLAG_OF = 1 << 11;
export const FLAG_IOPL = 3 << 12;
export const FLAG_NT = 1 << 14;
export const FLAG_RF = 1 << 16;
export const FLAG_VM = 1 << 17;
export const FLAG_AC = 1 << 18;
export const FLAG_VIF = 1 << 19;
export const FLAG_VIP = 1 << 20;
export const FLAG_ID = 1 << 21;
export const FLAGS_ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
/** Bits software can change on an i686 (no VME/PVI). */
export const FLAGS_WRITABLE =
  FLAGS_ARITH | FLAG_TF | FLAG_IF | FLAG_DF | FLAG_IOPL | FLAG_NT | FLAG_RF | FLAG_AC | FLAG_ID;

/** Control register bits (SDM Vol. 3A, 2.5). */
export const CR0_PE = 1 << 0;
export const CR0_MP = 1 << 1;
export const CR0_EM = 1 << 2;
export const CR0_TS = 1 << 3;
export const CR0_ET = 1 << 4;
export const CR0_NE = 1 << 5;
export const CR0_WP = 1 << 16;
export const CR0_AM = 1 << 18;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31;
export const CR4_PSE = 1 << 4;
export const CR4_TSD = 1 << 2;
/** CR4.PGE: global pages (PTE.G) survive CR3 writes (SDM Vol. 3A, 4.10.2.4). */
export const CR4_PGE = 1 << 7;

/** Page-table entry bits (SDM Vol. 3A, 4.3). */
export const PTE_P = 1 << 0;
export const PTE_RW = 1 << 1;
export const PTE_US = 1 << 2;
export const PTE_A = 1 << 5;
export const PTE_D = 1 << 6;
export const PDE_PS = 1 << 7;
/** Global page (with CR4.PGE): its TLB entry is kept when CR3 is written. */
export const PTE_G = 1 << 8;

/** Page-fault error code bits (SDM Vol. 3A, 4.7). */
export const PF_PRESENT = 1 << 0;
export const PF_WRITE = 1 << 1;
export const PF_USER = 1 << 2;
