#!/usr/bin/env python3
"""Flash use of a 32-bit bare-metal ELF: every allocated section with contents (vector table,
code, read-only data, and .data, whose initial values are in flash; not .bss or the stack),
and with --symbols N the N largest symbols (what `nm --size-sort` shows).
Usage: size.py ELF [--symbols N] [--flash-only]"""
import struct
import sys


def sections(elf):
    ident = elf[:16]
    assert ident[:4] == b"\x7fELF" and ident[4] == 1, "32-bit ELF expected"
    e = "<" if ident[5] == 1 else ">"
    shoff, = struct.unpack_from(e + "I", elf, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", elf, 0x2E)
    raw = [struct.unpack_from(e + "IIIIIIIIII", elf, shoff + i * shentsize) for i in range(shnum)]
    names = raw[shstrndx][4]
    out = []
    for name, typ, flags, addr, off, size, link, info, align, entsize in raw:
        end = elf.index(b"\0", names + name)
        out.append((elf[names + name:end].decode(), typ, flags, addr, off, size, link, entsize))
    return e, out


def symbols(elf, e, secs):
    syms = []
    for name, typ, flags, addr, off, size, link, entsize in secs:
        if typ != 2:  # SHT_SYMTAB
            continue
        strtab = secs[link][4]
        for i in range(size // entsize):
            st_name, value, st_size, info, other, shndx = struct.unpack_from(e + "IIIBBH", elf, off + i * entsize)
            if st_size and (info & 0xF) in (1, 2):  # OBJECT, FUNC
                end = elf.index(b"\0", strtab + st_name)
                syms.append((st_size, elf[strtab + st_name:end].decode(errors="replace")))
    return sorted(syms, reverse=True)


def main():
    elf = open(sys.argv[1], "rb").read()
    e, secs = sections(elf)
    SHT_PROGBITS, SHT_ARM_EXIDX, SHF_ALLOC = 1, 0x70000001, 2
    parts = {name: size for name, typ, flags, addr, off, size, link, entsize in secs
             if typ in (SHT_PROGBITS, SHT_ARM_EXIDX) and flags & SHF_ALLOC and size}
    total = sum(parts.values())
    if "--flash-only" in sys.argv:
        print(total)
        return
    print(" ".join(f"{n}={v}" for n, v in parts.items()), f"flash={total}")
    if "--symbols" in sys.argv:
        n = int(sys.argv[sys.argv.index("--symbols") + 1])
        for size, name in symbols(elf, e, secs)[:n]:
            print(f"{size:7} {name}")


if __name__ == "__main__":
    main()
