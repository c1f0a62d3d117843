using Google.Protobuf;
using Grpc.RtoApi;

namespace Rto.Protocols.Tests.Optimization;

/// <summary>
/// The RTO contract against protobuf bytes written by hand from the field numbers and wire types of
/// the spec, so a renumbered or retyped field fails here rather than at a plant.
/// Tags are (field number &lt;&lt; 3) | wire type: 0 varint, 1 fixed64 (double), 2 length-delimited.
/// </summary>
[TestClass]
public sealed class RtoWireFormatTests
{
    [TestMethod]
    public void AHandEncodedStartRequestDecodesFieldByField()
    {
        byte[] bytes =
        [
            0x0A, 0x03, (byte)'t', (byte)'o', (byte)'k',                        // 1 accessToken = "tok"
            0x12, 0x15,                                                         // 2 cvs[0], 21 bytes
                0x0A, 0x01, (byte)'c',                                          //   1 id = "c"
                0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0xBF,           //   4 lower_bound = -1.0 (fixed64)
                0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x40,           //   5 upper_bound = 2.5
            0x1A, 0x22,                                                         // 3 mvs[0], 34 bytes
                0x0A, 0x01, (byte)'x',                                          //   1 id = "x"
                0x12, 0x02, (byte)'X', (byte)'1',                               //   2 name = "X1"
                0x1A, 0x07, (byte)'I', (byte)'n', (byte)'t', (byte)'e', (byte)'g', (byte)'e', (byte)'r', // 3 dataType
                0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0xC0,           //   4 lower_bound = -3.0
                0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x40,           //   5 upper_bound = 3.0
            0x20, 0x01,                                                         // 4 maximize = true
            0x2A, 0x08, (byte)'G', (byte)'a', (byte)'u', (byte)'s', (byte)'s', (byte)'O', (byte)'p', (byte)'t', // 5 optimization_method
            0x30, 0xAC, 0x02,                                                   // 6 max_iterations = 300 (two-byte varint)
            0x3A, 0x03, (byte)'p', (byte)'4', (byte)'!',                        // 7 model_id = "p4!"
        ];

        StartRequest request = StartRequest.Parser.ParseFrom(bytes);

        Assert.AreEqual("tok", request.AccessToken);
        Assert.HasCount(1, request.Cvs);
        Assert.AreEqual("c", request.Cvs[0].Id);
        Assert.AreEqual(-1.0, request.Cvs[0].LowerBound);
        Assert.AreEqual(2.5, request.Cvs[0].UpperBound);
        Assert.HasCount(1, request.Mvs);
        Assert.AreEqual("x", request.Mvs[0].Id);
        Assert.AreEqual("X1", request.Mvs[0].Name);
        Assert.AreEqual("Integer", request.Mvs[0].DataType);
        Assert.AreEqual(-3.0, request.Mvs[0].LowerBound);
        Assert.AreEqual(3.0, request.Mvs[0].UpperBound);
        Assert.IsTrue(request.Maximize);
        Assert.AreEqual("GaussOpt", request.OptimizationMethod);
        Assert.AreEqual(300, request.MaxIterations);
        Assert.AreEqual("p4!", request.ModelId);
    }

    [TestMethod]
    public void AHandEncodedOptimizeIterationRequestDecodesFieldByField()
    {
        byte[] bytes =
        [
            0x12, 0x02, (byte)'i', (byte)'d',                                   // 2 optimization_instance_id = "id"
            0x1A, 0x15,                                                         // 3 cv_values[0], 21 bytes
                0x0A, 0x01, (byte)'c',                                          //   1 tagId = "c"
                0x10, 0x80, 0xD0, 0x95, 0xFF, 0xBC, 0x31,                       //   2 timeStamp = 1700000000000 (uint64 varint)
                0x19, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE0, 0x3F,           //   3 numericValue = 0.5
                0x20, 0x01,                                                     //   4 isGood = true
            0x2A, 0x0E,                                                         // 5 objective_function_value, 14 bytes
                0x0A, 0x03, (byte)'o', (byte)'b', (byte)'j',                    //   1 tagId = "obj"
                0x19, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1D, 0x40,           //   3 numericValue = 7.25; isGood absent = false
        ];

        OptimizeIterationRequest request = OptimizeIterationRequest.Parser.ParseFrom(bytes);

        Assert.AreEqual("", request.AccessToken);
        Assert.AreEqual("id", request.OptimizationInstanceId);
        Assert.HasCount(1, request.CvValues);
        Assert.AreEqual("c", request.CvValues[0].TagId);
        Assert.AreEqual(1_700_000_000_000UL, request.CvValues[0].TimeStamp);
        Assert.AreEqual(0.5, request.CvValues[0].NumericValue);
        Assert.IsTrue(request.CvValues[0].IsGood);
        Assert.IsEmpty(request.MvValues);
        Assert.IsNotNull(request.ObjectiveFunctionValue, "a present objective is distinguishable from an absent one");
        Assert.AreEqual("obj", request.ObjectiveFunctionValue.TagId);
        Assert.AreEqual(7.25, request.ObjectiveFunctionValue.NumericValue);
        Assert.IsFalse(request.ObjectiveFunctionValue.IsGood);
    }

    [TestMethod]
    public void AnOptimizeIterationResponseEncodesToTheHandWrittenBytes()
    {
        var response = new OptimizeIterationResponse { SessionId = "s", Flag = 3, Message = "ok" };
        response.MvValues.Add(new TagVal { TagId = "x", NumericValue = 1.5, IsGood = true });

        byte[] expected =
        [
            0x0A, 0x0E,                                                         // 1 mv_values[0], 14 bytes
                0x0A, 0x01, (byte)'x',                                          //   1 tagId = "x"
                0x19, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F,           //   3 numericValue = 1.5
                0x20, 0x01,                                                     //   4 isGood = true
            0x12, 0x01, (byte)'s',                                              // 2 sessionId = "s"
            0x18, 0x03,                                                         // 3 flag = 3
            0x22, 0x02, (byte)'o', (byte)'k',                                   // 4 message = "ok"
        ];

        CollectionAssert.AreEqual(expected, response.ToByteArray());
    }

    [TestMethod]
    public void FlagMinusOneIsATenByteVarintAsInt32RequiresOnTheWire()
    {
        var response = new OptimizeIterationResponse { Flag = -1 };

        CollectionAssert.AreEqual(new byte[] { 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, response.ToByteArray());
    }

    [TestMethod]
    public void StartResponseAndPauseResponseUseTheSpecNumbers()
    {
        CollectionAssert.AreEqual(
            new byte[] { 0x0A, 0x01, (byte)'g', 0x10, 0x01, 0x1A, 0x01, (byte)'m' },
            new StartResponse { OptimizationInstanceId = "g", IsGood = true, Message = "m" }.ToByteArray());
        CollectionAssert.AreEqual(
            new byte[] { 0x0A, 0x01, (byte)'m', 0x10, 0x01 },
            new PauseResponse { Message = "m", IsPaused = true }.ToByteArray());
        CollectionAssert.AreEqual(
            new byte[] { 0x0A, 0x01, (byte)'i', 0x12, 0x01, (byte)'r', 0x1A, 0x01, (byte)'t', 0x22, 0x01, (byte)'u', 0x2A, 0x01, (byte)'m' },
            new ServiceStatus { ServiceId = "i", Status = "r", ServiceType = "t", User = "u", Message = "m" }.ToByteArray());
    }

    [TestMethod]
    public void TheServicesHaveTheSpecNames()
    {
        Assert.AreEqual("Grpc.RtoApi.RtoService", RtoService.Descriptor.FullName);
        CollectionAssert.AreEqual(
            new[] { "GetServiceStatus", "StartOptimizeSession", "OptimizeIteration", "Pause", "Stop" },
            RtoService.Descriptor.Methods.Select(m => m.Name).ToArray());
        Assert.AreEqual("Grpc.RtoApi.DataProcessingService", DataProcessingService.Descriptor.FullName);
        Assert.AreEqual("CalculateCV", DataProcessingService.Descriptor.Methods.Single().Name);
    }
}
