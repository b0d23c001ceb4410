using System.CommandLine;
using Grpc.Core;
using MemSvc.Cli.Output;
using MemSvc.Cli.Upgrade;
using MemSvc.Client.Errors;

namespace MemSvc.Cli.Infrastructure;

/// <summary>
/// Gives every command the same frame: a <see cref="CliContext"/>, and every failure turned into a clear message
/// on standard error and the exit code of its class.
/// </summary>
internal sealed class CommandRunner(GlobalOptions options, CliEnvironment environment)
{
    public void Bind(Command command, Func<CliContext, ParseResult, CancellationToken, Task> body) =>
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, body, cancellationToken).ConfigureAwait(false));

    private async Task<int> RunAsync(ParseResult parse, Func<CliContext, ParseResult, CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        var error = environment.Error;
        try
        {
            using var context = new CliContext(parse, options, environment);
            try
            {
                await body(context, parse, cancellationToken).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (MemSvcException e) when (e.StatusCode == StatusCode.Unavailable && e.Reason is null)
            {
                await error.WriteLineAsync(NoServerText.Describe(context, e)).ConfigureAwait(false);
                return ExitCodes.Unavailable;
            }
        }
        catch (MemSvcException e)
        {
            await error.WriteLineAsync(ErrorText.Describe(e)).ConfigureAwait(false);
            if (e is EventsCompactedException { OldestSequence: { } oldest })
            {
                await error.WriteLineAsync($"hint: the journal now starts at #{oldest}; watch again with --from {oldest} (events before it are gone)").ConfigureAwait(false);
            }

            return ExitCodes.For(e.StatusCode);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (CheckFailedException e)
        {
            await error.WriteLineAsync($"check failed: {e.Message}").ConfigureAwait(false);
            return ExitCodes.CheckFailed;
        }
        catch (UpgradeFailedException e)
        {
            await error.WriteLineAsync($"upgrade failed: {e.Message}").ConfigureAwait(false);
            return ExitCodes.UpgradeFailed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("interrupted").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
        catch (IOException e)
        {
            await error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }
}
