using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Reliability.Sagas.Workflows;

/// <summary>
/// A YAML document as the JSON it means, so a workflow written in YAML is checked and stored exactly like
/// one written in JSON. Plain scalars that read as numbers, booleans or null take that type; quoted ones stay
/// strings. Anchors and aliases are refused: they would let a small document stand for a huge one.
/// </summary>
public static partial class YamlToJson
{
    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")]
    private static partial Regex JsonNumber();

    public static (JsonNode? Json, string? Error) Convert(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            return (null, $"line {ex.Start.Line}: {ex.Message}");
        }

        if (stream.Documents.Count != 1)
        {
            return (null, "the text must hold exactly one YAML document");
        }

        try
        {
            return (Node(stream.Documents[0].RootNode), null);
        }
        catch (FormatException ex)
        {
            return (null, ex.Message);
        }
    }

    private static JsonNode? Node(YamlNode node) => node switch
    {
        _ when !node.Anchor.IsEmpty => throw new FormatException($"line {node.Start.Line}: anchors and aliases are not accepted"),
        YamlMappingNode map => Mapping(map),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(Node)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new FormatException($"line {node.Start.Line}: anchors and aliases are not accepted"),
    };

    private static JsonObject Mapping(YamlMappingNode map)
    {
        var json = new JsonObject();
        foreach (var (key, value) in map.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                throw new FormatException($"line {key.Start.Line}: a key must be a plain name");
            }

            if (!json.TryAdd(name, Node(value)))
            {
                throw new FormatException($"line {key.Start.Line}: '{name}' is given twice");
            }
        }

        return json;
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is not ScalarStyle.Plain)
        {
            return JsonValue.Create(text);
        }

        return text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => null,
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            // A number is made as the JSON parser makes it, so it reads back as any numeric type that holds it (a value
            // created from a long would not read as an int).
            _ when JsonNumber().IsMatch(text) => JsonNode.Parse(text),
            _ => JsonValue.Create(text),
        };
    }
}
