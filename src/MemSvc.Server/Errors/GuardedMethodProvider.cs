using System.Reflection;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;

namespace MemSvc.Server.Errors;

/// <summary>
/// Binds each generated gRPC service (ours, health, reflection) as grpc-dotnet's own binder does, from the
/// [BindServiceMethod] attribute the generated base class carries, except that unary and server-streaming methods get
/// the parse guard of <see cref="MalformedRequests"/>. It replaces grpc-dotnet's binder
/// (<see cref="MalformedRequests.GuardParsing"/>): two binders would bind every method twice. Client-streaming and duplex methods (reflection
/// only) keep their parser: their messages are read by the handler, where a stand-in would be taken as real.
/// </summary>
internal sealed class GuardedMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is { } bind)
            {
                var method = bind.BindType.GetMethod(bind.BindMethodName, BindingFlags.Public | BindingFlags.Static, [typeof(ServiceBinderBase), type])
                    ?? throw new InvalidOperationException($"{bind.BindType} has no {bind.BindMethodName}(ServiceBinderBase, {type.Name})");
                method.Invoke(null, [new Binder(context, type), null]);
                return;
            }
        }
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context, Type serviceBase) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(Guarded(method), Metadata(method.Name), Invoker<Grpc.AspNetCore.Server.Model.UnaryServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(
                Guarded(method),
                Metadata(method.Name),
                Invoker<Grpc.AspNetCore.Server.Model.ServerStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(
                method,
                Metadata(method.Name),
                Invoker<Grpc.AspNetCore.Server.Model.ClientStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(
                method,
                Metadata(method.Name),
                Invoker<Grpc.AspNetCore.Server.Model.DuplexStreamingServerMethod<TService, TRequest, TResponse>>(
                    method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)));

        private static Method<TRequest, TResponse> Guarded<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class
            where TResponse : class =>
            new(method.Type, method.ServiceName, method.Name, MalformedRequests.Guard(method.RequestMarshaller), method.ResponseMarshaller);

        // The service's override of the generated virtual method, as an open-instance delegate (the service
        // instance is supplied per call by grpc-dotnet's activator).
        private TDelegate Invoker<TDelegate>(string name, params Type[] parameters)
            where TDelegate : Delegate =>
            (TDelegate)Delegate.CreateDelegate(typeof(TDelegate), Handler(name, parameters));

        private MethodInfo Handler(string name, Type[] parameters)
        {
            for (var type = typeof(TService); type is not null; type = type.BaseType)
            {
                var method = type.GetMethod(name, BindingFlags.Public | BindingFlags.Instance, parameters);
                if (method is not null && method.IsVirtual && method.GetBaseDefinition().DeclaringType == serviceBase)
                {
                    return method;
                }
            }

            throw new InvalidOperationException($"{typeof(TService)} has no override of {serviceBase.Name}.{name}");
        }

        // What grpc-dotnet gives an endpoint: the service's and the method's attributes, and POST only.
        private List<object> Metadata(string name)
        {
            var metadata = new List<object>(typeof(TService).GetCustomAttributes(inherit: true));
            if (typeof(TService).GetMethod(name, BindingFlags.Public | BindingFlags.Instance) is { } method)
            {
                metadata.AddRange(method.GetCustomAttributes(inherit: true));
            }

            metadata.Add(new HttpMethodMetadata(["POST"], acceptCorsPreflight: true));
            return metadata;
        }
    }
}
