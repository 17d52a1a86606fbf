using System.Runtime.InteropServices;
using Google.Protobuf;
using GanForge.Onnx.Proto;

namespace GanForge.Onnx;

/// <summary>An attribute of an ONNX node: a name and an int, ints, float or string value.</summary>
public readonly record struct OnnxAttribute
{
    public string Name { get; }
    readonly object _value;

    OnnxAttribute(string name, object value) { Name = name; _value = value; }

    public static OnnxAttribute Int(string name, long value) => new(name, value);
    public static OnnxAttribute Ints(string name, params long[] values) => new(name, values.ToArray());
    public static OnnxAttribute Float(string name, float value) => new(name, value);
    public static OnnxAttribute String(string name, string value) => new(name, value);

    internal AttributeProto ToProto()
    {
        var a = new AttributeProto { Name = Name };
        switch (_value)
        {
            case long i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
            case long[] ints: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ints); break;
            case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
            case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
        }
        return a;
    }
}

/// <summary>
/// An ONNX graph being built: nodes in execution order, weights as initializers, unique value names.
/// The one place that touches the protobuf messages (generated from Proto/onnx.proto by protoc), so a
/// layer's converter speaks only of op types, value names, tensors and attributes.
/// </summary>
public sealed class OnnxGraph
{
    /// <summary>ONNX's standard operator set this exporter targets.</summary>
    public const int Opset = 17;

    /// <summary>IR version 8 (ONNX 1.10+), which opset 17 runtimes accept.</summary>
    public const int IrVersion = 8;

    /// <summary>The dim_param name of the dynamic first (batch) dimension of the input and output.</summary>
    public const string BatchDim = "batch";

    readonly GraphProto _graph = new();
    readonly HashSet<string> _names = [];

    /// <summary>A graph called <paramref name="name"/> whose input and output go by the given names (reserved now).</summary>
    internal OnnxGraph(string name, string input, string output)
    {
        if (input == output)
            throw new ArgumentException($"ExportOnnx: the input and the output are both named '{input}'");
        _graph.Name = name;
        _names.Add(input);
        _names.Add(output);
    }

    /// <summary>A value name not used yet in this graph, made from <paramref name="hint"/>.</summary>
    public string Fresh(string hint)
    {
        string name = hint;
        for (int k = 1; !_names.Add(name); k++) name = hint + "_" + k;
        return name;
    }

    /// <summary>Stores <paramref name="tensor"/>'s values (float32) as a weight of the graph; returns its value name.</summary>
    public string Initializer(string name, Tensor tensor)
    {
        var t = new TensorProto { Name = Fresh(name), DataType = (int)TensorProto.Types.DataType.Float };
        foreach (int d in tensor.ShapeSpan) t.Dims.Add(d);
        t.RawData = ByteString.CopyFrom(LittleEndian(tensor.Data));
        _graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>Stores a 1-D int64 constant (a shape, axes) in the graph; returns its value name.</summary>
    public string Int64s(string name, params long[] values)
    {
        var t = new TensorProto { Name = Fresh(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        _graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>
    /// Appends a node <paramref name="opType"/> of the standard domain reading <paramref name="inputs"/> (an
    /// empty name is an omitted optional input) and writing <paramref name="output"/> (a fresh name from the
    /// op type when null); returns the output's name.
    /// </summary>
    public string Node(string opType, string[] inputs, string? output = null, params OnnxAttribute[] attributes)
    {
        output ??= Fresh(opType.ToLowerInvariant());
        var node = new NodeProto { OpType = opType, Name = output };   // node names are a namespace of their own
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes.Select(a => a.ToProto()));
        _graph.Node.Add(node);
        return output;
    }

    /// <summary>Declares a float32 (or int64) input of the graph; a null dimension is the dynamic <see cref="BatchDim"/>.</summary>
    internal void Input(string name, IEnumerable<int?> shape, bool int64 = false) => _graph.Input.Add(ValueInfo(name, shape, int64));

    /// <summary>Reserves <paramref name="name"/> for a graph input; an ArgumentException if it is taken.</summary>
    internal void Reserve(string name)
    {
        if (!_names.Add(name)) throw new ArgumentException($"ExportOnnx: the name '{name}' is used twice");
    }

    /// <summary>Declares a float32 output of the graph (a value a node writes).</summary>
    internal void Output(string name, IEnumerable<int?> shape) => _graph.Output.Add(ValueInfo(name, shape));

    /// <summary>The serialised model: this graph under opset <see cref="Opset"/>, IR version <see cref="IrVersion"/>.</summary>
    internal byte[] ToModelBytes(string producerVersion, string docString)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion, ProducerName = "GanForge", ProducerVersion = producerVersion,
            DocString = docString, Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model.ToByteArray();
    }

    static ValueInfoProto ValueInfo(string name, IEnumerable<int?> shape, bool int64 = false)
    {
        var tensorShape = new TensorShapeProto();
        foreach (var d in shape)
            tensorShape.Dim.Add(d is int v ? new TensorShapeProto.Types.Dimension { DimValue = v }
                                           : new TensorShapeProto.Types.Dimension { DimParam = BatchDim });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor
                {
                    ElemType = (int)(int64 ? TensorProto.Types.DataType.Int64 : TensorProto.Types.DataType.Float), Shape = tensorShape,
                },
            },
        };
    }

    // raw_data is little-endian IEEE 754 whatever machine wrote it.
    static byte[] LittleEndian(ReadOnlySpan<float> values)
    {
        var bytes = MemoryMarshal.AsBytes(values).ToArray();
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < bytes.Length; i += 4) Array.Reverse(bytes, i, 4);
        return bytes;
    }
}
