namespace MemSvc.Client.Errors;

/// <summary>One bad request field (google.rpc.BadRequest.FieldViolation), named in the API's snake_case.</summary>
/// <param name="Field">The request field at fault, such as <c>gpa</c> or <c>guest_memfd_offset</c>.</param>
/// <param name="Description">Why the server refused it.</param>
public sealed record FieldViolation(string Field, string Description);
