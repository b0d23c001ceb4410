using System.Collections.Frozen;
using System.Reflection;
using Google.Protobuf.Reflection;

namespace MemSvc.Server.Validation;

/// <summary>
/// An enum value as the contract spells it (GUEST_MEMFD_FLAG_MMAP, not the generated C# member Mmap), for error
/// messages: clients in other languages know only the .proto's names.
/// </summary>
internal static class ContractNames
{
    public static string Of<TEnum>(TEnum value)
        where TEnum : struct, Enum =>
        Names<TEnum>.ByValue.TryGetValue(value, out var name) ? name : value.ToString();

    // Read once per enum type: the attribute lookup is reflection, and error paths can be driven hard.
    private static class Names<TEnum>
        where TEnum : struct, Enum
    {
        public static readonly FrozenDictionary<TEnum, string> ByValue = typeof(TEnum)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.GetCustomAttribute<OriginalNameAttribute>() is not null)
            .ToFrozenDictionary(field => (TEnum)field.GetValue(null)!, field => field.GetCustomAttribute<OriginalNameAttribute>()!.Name);
    }
}
