using Grpc.Core;
using MemSvc.Client.Errors;

namespace MemSvc.Client.Resilience;

/// <summary>
/// Runs one unary RPC: a fresh deadline per attempt, the retry pipeline of its <see cref="CallKind"/>, and
/// failures translated to <see cref="MemSvcException"/>.
/// </summary>
internal sealed class UnaryInvoker(RetryPipelines pipelines, TimeSpan deadline)
{
    public async Task<TResponse> InvokeAsync<TResponse>(
        CallKind kind, Func<CallOptions, AsyncUnaryCall<TResponse>> call, CancellationToken cancellationToken)
        where TResponse : class, new()
    {
        // Whether an earlier attempt may have run on the server: one refused at admission did not.
        var mayHaveRun = false;
        try
        {
            return await pipelines.For(kind).ExecuteAsync(
                async token =>
                {
                    var options = new CallOptions(deadline: DateTime.UtcNow + deadline, cancellationToken: token);
                    try
                    {
                        return await call(options).ResponseAsync.ConfigureAwait(false);
                    }
                    catch (RpcException e) when (kind == CallKind.Delete && mayHaveRun && e.StatusCode == StatusCode.NotFound)
                    {
                        // The earlier attempt reached the server and deleted it before its answer was lost.
                        return new TResponse();
                    }
                    catch (RpcException e) when (!AdmissionRefusal.Is(e, out _))
                    {
                        mayHaveRun = true;
                        throw;
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(e.Message, e, cancellationToken);
        }
        catch (RpcException e)
        {
            throw ErrorTranslator.Translate(e);
        }
    }
}
