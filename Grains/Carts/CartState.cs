using System.Collections.Immutable;

namespace Reliability.Carts;

[GenerateSerializer, Immutable, Alias("carts.state")]
public sealed record CartState(ImmutableList<CartItem> Items)
{
    public CartState() : this(ImmutableList<CartItem>.Empty)
    {
    }
}
