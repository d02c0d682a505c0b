using Reliability.Client.Observability;

namespace Reliability.Tests.Observability;

/// <summary>The client's reading of Prometheus' text format, which the metrics command and the tour rely on.</summary>
public sealed class PrometheusTextTests
{
    [Fact]
    public void Parse_ReadsNamesLabelsValuesAndTimestamps_AndSkipsComments()
    {
        var samples = SiloMetrics.Parse("""
            # HELP reliability_sagas_started_total Sagas started, by workflow.
            # TYPE reliability_sagas_started_total counter
            reliability_sagas_started_total{otel_scope_name="Reliability.Sagas",workflow="transfer"} 3 1764630000000
            reliability_projection_lag_seconds_bucket{projection="orders",le="+Inf"} 11
            process_runtime_up 1
            odd_label{path="a \"quoted\" \\ path, with = and }",x="1"} 2.5e-3

            """).ToList();

        Assert.Equal(4, samples.Count);
        Assert.Equal(("reliability_sagas_started_total", 3.0), (samples[0].Name, samples[0].Value));
        Assert.Equal("workflow=\"transfer\"", samples[0].LabelText);
        Assert.Equal("+Inf", samples[1].Labels["le"]);
        Assert.Equal(("process_runtime_up", 1.0), (samples[2].Name, samples[2].Value));
        Assert.Empty(samples[2].Labels);
        Assert.Equal("a \"quoted\" \\ path, with = and }", samples[3].Labels["path"]);
        Assert.Equal("1", samples[3].Labels["x"]);
        Assert.Equal(0.0025, samples[3].Value, 10);
    }
}
