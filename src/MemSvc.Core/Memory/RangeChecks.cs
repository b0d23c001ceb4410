using MemSvc.Core.Errors;

namespace MemSvc.Core.Memory;

/// <summary>The checks every address range from a request passes before Core touches anything.</summary>
internal static class RangeChecks
{
    public const ulong PageSize = 4096;

    /// <summary>A page-aligned, non-empty range whose end fits in 64 bits.</summary>
    public static void PageRange(ulong address, ulong size, string addressField = "gpa", string sizeField = "size")
    {
        if (size == 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidSize, sizeField, $"{sizeField} must not be 0");
        }

        if (size % PageSize != 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidSize, sizeField, $"{sizeField} {CoreErrors.Hex(size)} is not a multiple of 4096");
        }

        if (address % PageSize != 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidAddress, addressField, $"{addressField} {CoreErrors.Hex(address)} is not 4096-aligned");
        }

        if (address + size < address)
        {
            throw CoreException.InvalidArgument(ErrorReasons.RangeOverflow, sizeField, $"{addressField} + {sizeField} overflows 2^64");
        }
    }

    /// <summary>A guest_memfd file range: page aligned, non-empty, and within loff_t.</summary>
    public static void FileRange(ulong offset, ulong size)
    {
        if (size == 0 || size % PageSize != 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidSize, "size", $"size {CoreErrors.Hex(size)} must be a non-zero multiple of 4096");
        }

        if (offset % PageSize != 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidOffset, "offset", $"offset {CoreErrors.Hex(offset)} is not 4096-aligned");
        }

        if (offset > long.MaxValue || size > long.MaxValue || offset + size > long.MaxValue)
        {
            throw CoreException.InvalidArgument(ErrorReasons.RangeOverflow, "size", "offset + size exceeds 2^63 - 1 (loff_t)");
        }
    }

    /// <summary>A byte range for ReadGuestMemory / WriteGuestMemory: any alignment, non-empty, bounded.</summary>
    public static void Transfer(ulong gpa, ulong size, int maxBytes, string sizeField)
    {
        if (size == 0)
        {
            throw CoreException.InvalidArgument(ErrorReasons.InvalidSize, sizeField, $"{sizeField} must not be 0");
        }

        if (size > (ulong)maxBytes)
        {
            throw CoreException.InvalidArgument(ErrorReasons.TransferTooLarge, sizeField, $"{sizeField} {size} is over the {maxBytes}-byte limit of one call");
        }

        // The last page of the address space is excluded too: its page-rounded end would be 2^64, which no
        // memslot can reach anyway (KVM refuses gpa + size overflow).
        if (gpa + size < gpa || gpa + size > ulong.MaxValue - PageSize + 1)
        {
            throw CoreException.InvalidArgument(ErrorReasons.RangeOverflow, sizeField, $"gpa + {sizeField} overflows the guest-physical address space");
        }
    }
}
