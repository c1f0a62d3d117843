using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Rto.Server.Optimization;

/// <summary>
/// Checks the <c>accessToken</c> field every RTO request carries against <see cref="OptimizationOptions.AccessTokens"/>:
/// missing or wrong → <c>PERMISSION_DENIED</c>. No tokens configured → every call passes.
/// Tokens are compared in constant time, against every configured token.
/// </summary>
internal sealed class AccessTokenInterceptor : Interceptor
{
    private readonly byte[][] _tokens;

    public AccessTokenInterceptor(IOptions<OptimizationOptions> options) =>
        _tokens = [.. options.Value.AccessTokens.Select(Encoding.UTF8.GetBytes)];

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (_tokens.Length != 0 && !IsAccepted(TokenOf(request)))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "missing or wrong accessToken"));
        }

        return continuation(request, context);
    }

    private static string TokenOf<TRequest>(TRequest request)
    {
        // Field 1 is accessToken in every request of the RTO contract.
        FieldDescriptor? field = (request as IMessage)?.Descriptor.FindFieldByNumber(1);
        return field is { FieldType: FieldType.String } ? (string)field.Accessor.GetValue((IMessage)request!) : "";
    }

    private bool IsAccepted(string token)
    {
        byte[] candidate = Encoding.UTF8.GetBytes(token);
        bool accepted = false;
        foreach (byte[] expected in _tokens)
        {
            accepted |= CryptographicOperations.FixedTimeEquals(candidate, expected);
        }

        return candidate.Length != 0 && accepted;
    }
}
