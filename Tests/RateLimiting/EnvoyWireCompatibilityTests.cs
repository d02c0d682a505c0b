using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.RateLimiting;

/// <summary>
/// The service as Envoy's own binary encoding sees it: a request written byte by byte from the field
/// numbers of Envoy's v3 API (not from our generated classes), sent on the method path Envoy calls, and the
/// response read back the same way.
/// </summary>
[Collection(SiloHostCollection.Name)]
public sealed class EnvoyWireCompatibilityTests(SiloHostFixture silo)
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(bytes => bytes, bytes => bytes);
    private static readonly Method<byte[], byte[]> ShouldRateLimit =
        new(MethodType.Unary, "envoy.service.ratelimit.v3.RateLimitService", "ShouldRateLimit", Raw, Raw);

    [Fact]
    public async Task ARequestInEnvoysEncoding_GetsAnAnswerInEnvoysEncoding()
    {
        var domain = $"wire{Guid.NewGuid():N}"[..16];
        var file = Path.Combine(silo.RlsConfigFolder, $"{domain}.yaml");
        await File.WriteAllTextAsync(file, $"domain: {domain}\ndescriptors:\n  - key: remote_address\n    rate_limit:\n      unit: minute\n      requests_per_unit: 1\n");
        try
        {
            using var channel = GrpcChannel.ForAddress(silo.RlsUrls[0]);
            var invoker = channel.CreateCallInvoker();
            // RateLimitRequest { domain = 1; descriptors = 2 { entries = 1 { key = 1; value = 2 } }; hits_addend = 3 }
            var entry = Concat(Text(1, "remote_address"), Text(2, "10.1.2.3"));
            var descriptor = Bytes(1, entry);
            var request = Concat(Text(1, domain), Bytes(2, descriptor), Varint(3, 1));

            List<Field> first = [];
            // Until the silo has read the file, the descriptor is unlimited (no current_limit); then it takes the one request a minute.
            for (var attempt = 0; attempt < 50 && !HasLimit(first); attempt++)
            {
                first = Read(await invoker.AsyncUnaryCall(ShouldRateLimit, null, new CallOptions(), request));
                await Task.Delay(100);
            }

            var second = Read(await invoker.AsyncUnaryCall(ShouldRateLimit, null, new CallOptions(), request));

            // RateLimitResponse { overall_code = 1 (OK = 1, OVER_LIMIT = 2); statuses = 2; response_headers_to_add = 3 }
            Assert.Equal(2, second.Single(f => f.Number == 1).Value);
            var status = Read(second.Single(f => f.Number == 2).Payload!);
            Assert.Equal(2, status.Single(f => f.Number == 1).Value);
            // DescriptorStatus.current_limit = 2 { requests_per_unit = 1; unit = 2 (MINUTE = 2); name = 3 }
            var limit = Read(status.Single(f => f.Number == 2).Payload!);
            Assert.Equal(1, limit.Single(f => f.Number == 1).Value);
            Assert.Equal(2, limit.Single(f => f.Number == 2).Value);
            Assert.Contains("remote_address", Encoding.UTF8.GetString(limit.Single(f => f.Number == 3).Payload!));
            // duration_until_reset = 4 (google.protobuf.Duration { seconds = 1; nanos = 2 })
            Assert.Contains(status, f => f.Number == 4);
            // HeaderValue { key = 1; value = 2 }
            var headers = second.Where(f => f.Number == 3).Select(f => Read(f.Payload!)).ToDictionary(
                h => Encoding.UTF8.GetString(h.Single(f => f.Number == 1).Payload!), h => Encoding.UTF8.GetString(h.Single(f => f.Number == 2).Payload!));
            Assert.InRange(int.Parse(headers["Retry-After"]), 1, 60);
            Assert.True(headers.ContainsKey("RateLimit"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static bool HasLimit(List<Field> response) =>
        response.FirstOrDefault(f => f.Number == 2) is { Payload: { } status } && Read(status).Any(f => f.Number == 2);

    private sealed record Field(int Number, long Value, byte[]? Payload);

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static byte[] Text(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    private static byte[] Bytes(int field, byte[] payload) => Concat(VarintBytes((ulong)(field << 3 | 2)), VarintBytes((ulong)payload.Length), payload);

    private static byte[] Varint(int field, ulong value) => Concat(VarintBytes((ulong)(field << 3)), VarintBytes(value));

    private static byte[] VarintBytes(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var next = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? next : (byte)(next | 0x80));
        }
        while (value != 0);

        return [.. bytes];
    }

    /// <summary>The fields of one message: varints (wire type 0) and length-delimited payloads (wire type 2).</summary>
    private static List<Field> Read(byte[] message)
    {
        var fields = new List<Field>();
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var (number, wireType) = ((int)(tag >> 3), (int)(tag & 7));
            switch (wireType)
            {
                case 0:
                    fields.Add(new Field(number, (long)ReadVarint(message, ref position), null));
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    fields.Add(new Field(number, 0, message[position..(position + length)]));
                    position += length;
                    break;
                default:
                    throw new InvalidDataException($"unexpected wire type {wireType} for field {number}");
            }
        }

        return fields;
    }

    private static ulong ReadVarint(byte[] bytes, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
