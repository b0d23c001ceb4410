namespace MemSvc.Hypervisor.Kvm;

/// <summary>x86-64 general registers in encoding order.</summary>
internal enum Reg
{
    Rax = 0,
    Rcx = 1,
    Rdx = 2,
    Rbx = 3,
    Rsp = 4,
    Rbp = 5,
    Rsi = 6,
    Rdi = 7,
    R8 = 8,
}

/// <summary>
/// Emits the handful of x86-64 instructions the guest compiler needs, byte by byte (encodings from the Intel SDM
/// vol. 2). Short forward jumps are patched once their target is known.
/// </summary>
internal sealed class X86Emitter
{
    private readonly List<byte> _code = [];

    public int Position => _code.Count;

    public byte[] ToArray() => [.. _code];

    /// <summary>mov r64, imm64 (REX.W B8+r io).</summary>
    public void MovImm64(Reg register, ulong value)
    {
        var r = (int)register;
        Emit((byte)(0x48 | (r >> 3)), (byte)(0xB8 + (r & 7)));
        EmitUInt64(value);
    }

    /// <summary>mov r32, imm32 ([REX.B] B8+r id): zero-extends into the 64-bit register.</summary>
    public void MovImm32(Reg register, uint value)
    {
        var r = (int)register;
        if (r >= 8)
        {
            Emit(0x41);
        }

        Emit((byte)(0xB8 + (r & 7)));
        EmitUInt32(value);
    }

    /// <summary>mov al, imm8 (B0 ib).</summary>
    public void MovAlImm8(byte value) => Emit(0xB0, value);

    /// <summary>rep stosb: store al to [rdi], rcx times.</summary>
    public void RepStosb() => Emit(0xF3, 0xAA);

    /// <summary>repe scasb: compare al with [rdi] while equal, rcx times; ZF=0 when a byte differed.</summary>
    public void RepeScasb() => Emit(0xF3, 0xAE);

    /// <summary>lea rsi, [rdi - 1].</summary>
    public void LeaRsiRdiMinus1() => Emit(0x48, 0x8D, 0x77, 0xFF);

    /// <summary>movzx r8d, byte [rsi].</summary>
    public void MovzxR8dByteAtRsi() => Emit(0x44, 0x0F, 0xB6, 0x06);

    /// <summary>mov r8, rax.</summary>
    public void MovR8Rax() => Emit(0x49, 0x89, 0xC0);

    /// <summary>mov rsi, rbx.</summary>
    public void MovRsiRbx() => Emit(0x48, 0x89, 0xDE);

    /// <summary>xor edi, edi.</summary>
    public void ZeroRdi() => Emit(0x31, 0xFF);

    /// <summary>test rax, rax.</summary>
    public void TestRaxRax() => Emit(0x48, 0x85, 0xC0);

    /// <summary>out imm8, eax (E7 ib): a 4-byte port write of eax.</summary>
    public void OutEax(byte port) => Emit(0xE7, port);

    /// <summary>jmp rel8 back to <paramref name="target"/>.</summary>
    public void JmpShortTo(int target)
    {
        var displacement = target - (Position + 2);
        Emit(0xEB, unchecked((byte)checked((sbyte)displacement)));
    }

    /// <summary>je rel8 with the displacement left open; returns the position to give <see cref="BindShort"/>.</summary>
    public int JeShortForward()
    {
        Emit(0x74, 0x00);
        return Position - 1;
    }

    /// <summary>Points the short jump whose displacement byte is at <paramref name="fixup"/> at the current position.</summary>
    public void BindShort(int fixup)
    {
        var displacement = Position - (fixup + 1);
        _code[fixup] = unchecked((byte)checked((sbyte)displacement));
    }

    private void Emit(params ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            _code.Add(b);
        }
    }

    private void EmitUInt32(uint value)
    {
        for (var i = 0; i < 4; i++)
        {
            _code.Add((byte)(value >> (8 * i)));
        }
    }

    private void EmitUInt64(ulong value)
    {
        for (var i = 0; i < 8; i++)
        {
            _code.Add((byte)(value >> (8 * i)));
        }
    }
}
