namespace Reliability.Services;

/// <summary>Amounts are decimals with at most two decimal places, positive, and below a sane ceiling.</summary>
public static class Money
{
    public const decimal Max = 1_000_000_000m;

    public static FieldError? Check(decimal? amount, string field = "amount") => amount switch
    {
        null => new FieldError(field, "is required"),
        <= 0 => new FieldError(field, $"must be positive (got {amount})"),
        > Max => new FieldError(field, $"must be at most {Max:N0} (got {amount})"),
        _ when decimal.Round(amount.Value, 2) != amount.Value => new FieldError(field, $"must have at most 2 decimal places (got {amount})"),
        _ => null,
    };
}
