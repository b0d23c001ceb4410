using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using MemSvc.Core.Errors;

namespace MemSvc.Server.Errors;

/// <summary>
/// Request bodies that are not valid protobuf. grpc-dotnet parses a request before any interceptor runs and, when
/// parsing throws, answers UNKNOWN with no ErrorInfo and logs an error with a stack trace (2.5 KB a call, no rate
/// limit: 12.8 MB in 0.7 s in the probe). So the request parser is wrapped (<see cref="GuardedMethodProvider{TService}"/>):
/// a body that does not parse becomes an empty message marked here, and <see cref="MalformedRequestGuard"/> refuses
/// it INVALID_ARGUMENT MALFORMED_REQUEST, through the limits and the error table like any other refused call.
/// </summary>
internal static class MalformedRequests
{
    public const string Reason = "MALFORMED_REQUEST";

    // Keyed by the stand-in message itself, which lives as long as its call: no entry outlives it.
    private static readonly ConditionalWeakTable<object, string> Problems = [];

    /// <summary>
    /// Puts <see cref="GuardedMethodProvider{TService}"/> in place of grpc-dotnet's BinderServiceMethodProvider. Call
    /// after the last AddGrpc* registration: each AddGrpc adds grpc-dotnet's binder again if it is missing.
    /// </summary>
    public static void GuardParsing(IServiceCollection services)
    {
        var binders = services.Where(d => d.ServiceType == typeof(IServiceMethodProvider<>) && d.ImplementationType?.Name == "BinderServiceMethodProvider`1").ToList();
        if (binders.Count != 1)
        {
            throw new InvalidOperationException($"expected grpc-dotnet to register one BinderServiceMethodProvider<>, found {binders.Count}: its registration changed");
        }

        services.Remove(binders[0]);
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(GuardedMethodProvider<>));
    }

    /// <summary>The marshaller, with a deserializer that marks what it cannot parse instead of throwing.</summary>
    public static Marshaller<T> Guard<T>(Marshaller<T> marshaller)
        where T : class =>
        new(marshaller.ContextualSerializer, context =>
        {
            try
            {
                return marshaller.ContextualDeserializer(context);
            }
            catch (InvalidProtocolBufferException e)
            {
                var standIn = Activator.CreateInstance<T>();
                Problems.AddOrUpdate(standIn, e.Message);
                return standIn;
            }
        });

    /// <summary>Why <paramref name="request"/> could not be parsed, or null for a request that parsed.</summary>
    public static string? ProblemOf(object? request) =>
        request is not null && Problems.TryGetValue(request, out var problem) ? problem : null;

    public static CoreException Error(object request, string problem)
    {
        var type = request is IMessage message ? message.Descriptor.FullName : request.GetType().Name;
        return new CoreException(
            ErrorKind.InvalidArgument,
            ServerReasons.MalformedRequest,
            $"the request body is not a valid {type}: {problem}",
            null,
            new Dictionary<string, string> { ["message_type"] = type });
    }
}
