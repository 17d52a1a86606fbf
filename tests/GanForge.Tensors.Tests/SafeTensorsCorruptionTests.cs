using System.Buffers.Binary;
using System.Text;
using GanForge.Serialization;

namespace GanForge.Tests;

/// <summary>Corrupt or hand-made safetensors files: each must fail with a message naming the file and, where there is one, the tensor.</summary>
public class SafeTensorsCorruptionTests : IDisposable
{
    readonly string _path = Path.Combine(Path.GetTempPath(), $"gf-corrupt-{Guid.NewGuid():N}.safetensors");

    public void Dispose() => File.Delete(_path);

    /// <summary>Writes a file with the given JSON header and <paramref name="dataBytes"/> zero bytes of data.</summary>
    void WriteRaw(string header, int dataBytes, ulong? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        File.WriteAllBytes(_path, bytes);
    }

    InvalidDataException LoadFails()
    {
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(_path));
        Assert.Contains(_path, e.Message);
        return e;
    }

    [Fact]
    public void Load_GarbledHeader_SaysCorruptJson()
    {
        WriteRaw("{\"a\":{\"dtype\":\"F32\",\"sha", 0);
        Assert.Contains("corrupt JSON header", LoadFails().Message);
    }

    [Fact]
    public void Load_HeaderNotAnObject_Throws()
    {
        WriteRaw("[1,2,3]", 0);
        Assert.Contains("expected an object", LoadFails().Message);
    }

    [Fact]
    public void Load_HugeDeclaredHeader_HitsSizeLimit()
    {
        WriteRaw("{}", 0, declaredLength: 1UL << 40);
        Assert.Contains("limit", LoadFails().Message);
    }

    [Fact]
    public void Load_OffsetsPastTheData_NamesTheTensor()
    {
        WriteRaw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 12);
        var m = LoadFails().Message;
        Assert.Contains("'b'", m);
        Assert.Contains("truncated", m);
    }

    [Fact]
    public void Load_SizeDisagreesWithShape_NamesTheTensor()
    {
        WriteRaw("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        var m = LoadFails().Message;
        Assert.Contains("'w'", m);
        Assert.Contains("needs 12 bytes", m);
    }

    [Fact]
    public void Load_OverlappingOffsets_NamesBothTensors()
    {
        WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        var m = LoadFails().Message;
        Assert.Contains("'b'", m);
        Assert.Contains("overlaps 'a'", m);
    }

    [Fact]
    public void Load_GapBetweenTensors_NamesTheTensor()
    {
        WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12);
        var m = LoadFails().Message;
        Assert.Contains("'b'", m);
        Assert.Contains("gap of 4 bytes", m);
    }

    [Fact]
    public void Load_TrailingBytes_Throws()
    {
        WriteRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 10);
        Assert.Contains("trailing", LoadFails().Message);
    }

    [Fact]
    public void Load_UnsupportedDtype_NamesTensorAndDtype()
    {
        WriteRaw("{\"z\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
        var m = LoadFails().Message;
        Assert.Contains("'z'", m);
        Assert.Contains("C64", m);
    }

    [Fact]
    public void Load_MissingField_NamesTheTensor()
    {
        WriteRaw("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4);
        Assert.Contains("'w'", LoadFails().Message);
    }

    [Fact]
    public void Load_NegativeDimension_Throws()
    {
        WriteRaw("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4);
        Assert.Contains("negative", LoadFails().Message);
    }

    [Fact]
    public void Load_NonStringMetadata_Throws()
    {
        WriteRaw("{\"__metadata__\":{\"epoch\":3}}", 0);
        Assert.Contains("'epoch'", LoadFails().Message);
    }

    [Fact]
    public void Load_HandMadeValidFile_ReadsI64AndF64AndMetadata()
    {
        var header = "{\"__metadata__\":{\"format\":\"pt\"},\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[8,24]}}";
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + 24];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8 + json.Length), 42);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 + json.Length + 8), 0.5);
        BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 + json.Length + 16), -2.0);
        File.WriteAllBytes(_path, bytes);
        var (tensors, metadata) = SafeTensors.Read(_path);
        Assert.Equal(42f, tensors["n"].Item());
        Assert.Empty(tensors["n"].Shape);
        Assert.Equal([0.5f, -2f], tensors["d"].ToArray());
        Assert.Equal("pt", metadata["format"]);
    }

    /// <summary>A file as GanForge writes it: a few tensors (one int64) and metadata, with its checksum.</summary>
    void SaveChecked() =>
        SafeTensors.Save(_path, [new("w", Tensor.Randn([4, 8], new Generator(5))), new("n", Tensor.Scalar(3)), new("b", Tensor.Ones(8))],
            new Dictionary<string, string> { ["state"] = "{\"step\":120}" }, new HashSet<string> { "n" });

    [Fact]
    public void Load_OneByteFlippedInTheData_SaysTheFileIsDamaged()
    {
        SaveChecked();
        SafeTensorsFiles.FlipByte(_path, SafeTensorsFiles.DataStart(_path) + 37);   // inside 'w', the header untouched
        var m = LoadFails().Message;
        Assert.StartsWith($"{_path} is damaged: checksum mismatch", m);
        Assert.DoesNotContain("\n", m);
    }

    [Fact]
    public void Load_ByteChangedInAMetadataValue_SaysTheFileIsDamaged()
    {
        SaveChecked();
        var bytes = File.ReadAllBytes(_path);
        int at = Encoding.UTF8.GetString(bytes).IndexOf("120", StringComparison.Ordinal);
        bytes[at] = (byte)'9';                         // step 920: still valid JSON, still a valid file
        File.WriteAllBytes(_path, bytes);
        Assert.StartsWith($"{_path} is damaged: checksum mismatch", LoadFails().Message);
    }

    [Fact]
    public void Load_FileWithoutAChecksum_LoadsAsBefore()
    {
        SaveChecked();
        var expected = SafeTensors.Read(_path);
        SafeTensorsFiles.RemoveChecksum(_path);        // what GanForge wrote before checksums, and what PyTorch writes
        var (tensors, metadata) = SafeTensors.Read(_path);
        Assert.Equal(expected.Metadata, metadata);
        foreach (var (name, t) in expected.Tensors) Assert.Equal(t.ToArray(), tensors[name].ToArray());
    }

    [Fact]
    public void Load_TruncatedFileWithAChecksum_StillSaysTruncatedNamingTheTensor()
    {
        SaveChecked();
        var bytes = File.ReadAllBytes(_path);
        File.WriteAllBytes(_path, bytes[..^6]);
        var m = LoadFails().Message;
        Assert.Contains("'b'", m);
        Assert.Contains("truncated", m);
        Assert.DoesNotContain("checksum", m);
    }

    [Fact]
    public void ReadFile_KeepingSome_ReadsThoseAlikeAndListsEveryShape()
    {
        SaveChecked();
        var whole = SafeTensors.Read(_path).Tensors;
        var some = SafeTensors.ReadFile(_path, name => name != "w");
        Assert.Equal(["n", "b"], some.Tensors.Keys);
        foreach (var (name, t) in some.Tensors) Assert.Equal(whole[name].ToArray(), t.ToArray());
        Assert.Equal(["w", "n", "b"], some.TensorShapes.Keys);
        Assert.Equal([4, 8], some.TensorShapes["w"]);
        Assert.Equal(32 + 1 + 8, some.Values);
        Assert.Equal(["state"], some.Metadata.Keys);
        Assert.Empty(SafeTensors.ReadFile(_path, _ => false).Tensors);
    }

    [Fact]
    public void ReadFile_AByteFlippedInATensorNotKept_StillSaysTheFileIsDamaged()
    {
        SaveChecked();
        SafeTensorsFiles.FlipByte(_path, SafeTensorsFiles.DataStart(_path) + 37);   // inside 'w'
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.ReadFile(_path, name => name != "w"));
        Assert.StartsWith($"{_path} is damaged: checksum mismatch", e.Message);
    }

    [Fact]
    public void ReadFile_NoChecksumAndATensorNotKept_SkipsItAndReadsTheRest()
    {
        SaveChecked();
        var whole = SafeTensors.Read(_path).Tensors;
        SafeTensorsFiles.RemoveChecksum(_path);
        var some = SafeTensors.ReadFile(_path, name => name == "b");
        Assert.Equal(whole["b"].ToArray(), Assert.Single(some.Tensors).Value.ToArray());
    }

    [Fact]
    public void ReadFile_FromBytes_ReadsAsFromTheFile()
    {
        SaveChecked();
        var fromFile = SafeTensors.ReadFile(_path);
        var fromBytes = SafeTensors.ReadFile(File.ReadAllBytes(_path), _path);
        Assert.Equal(fromFile.TensorShapes.Keys, fromBytes.TensorShapes.Keys);
        foreach (var (name, t) in fromFile.Tensors) Assert.Equal(t.ToArray(), fromBytes.Tensors[name].ToArray());
        Assert.Equal(fromFile.Metadata, fromBytes.Metadata);
    }

    [Fact]
    public void Read_LargeF32Tensor_ComesBackBitForBit()
    {
        // Big enough to span many of the stream's reads, with values whose every bit matters (NaN payloads, denormals, -0).
        var values = new float[300_001];
        var g = new Generator(9);
        for (int i = 0; i < values.Length; i++) values[i] = BitConverter.UInt32BitsToSingle((uint)g.NextUInt64());
        values[0] = -0f;
        SafeTensors.Save(_path, [new("big", Tensor.FromArray(values, [values.Length])), new("n", Tensor.Scalar(3))], null, new HashSet<string> { "n" });
        var back = SafeTensors.Load(_path);
        Assert.Equal(values.Select(BitConverter.SingleToUInt32Bits), back["big"].ToArray().Select(BitConverter.SingleToUInt32Bits));
        Assert.Equal(3f, back["n"].Item());
    }

    [Fact]
    public void Read_CheckedFile_ReturnsTheMetadataWithoutTheChecksum()
    {
        SaveChecked();
        Assert.Equal(["state"], SafeTensors.Read(_path).Metadata.Keys);
    }

    [Fact]
    public void Save_ChecksumKeyInTheMetadata_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Save(_path, [new("a", Tensor.Ones(1))],
            new Dictionary<string, string> { [SafeTensors.ChecksumKey] = "00000000" }));
        Assert.Contains(SafeTensors.ChecksumKey, e.Message);
    }

    [Fact]
    public void Save_DuplicateName_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Save(_path, [new("a", Tensor.Ones(1)), new("a", Tensor.Ones(2))]));
        Assert.Contains("'a'", e.Message);
    }
}
