import Archive
import Testing

/// AWS Signature Version 4 checked against the worked examples AWS publishes in the Amazon S3 API Reference,
/// "Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk (AWS Signature Version 4)"
/// (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html): bucket `examplebucket`, access key
/// `AKIAIOSFODNN7EXAMPLE`, secret `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`, region us-east-1, 2013-05-24 00:00:00 UTC.
/// Every expected hash and signature below is AWS's, not Atrium's.
@Suite("AWS Signature Version 4")
struct SignatureV4Tests {
    private let signer = SignatureV4(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
    private let date = "20130524T000000Z"
    private let host = ("Host", "examplebucket.s3.amazonaws.com")

    @Test("GET Object with a Range header: AWS's canonical request hash and signature")
    func getObject() {
        let signed = signer.sign(
            method: "GET", path: "/test.txt", query: [],
            headers: [host, ("Range", "bytes=0-9"), ("x-amz-content-sha256", SignatureV4.emptyPayloadHash), ("x-amz-date", date)],
            payloadHash: SignatureV4.emptyPayloadHash, date: date)
        #expect(SignatureV4.emptyPayloadHash == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SignatureV4.hexSHA256(Array(signed.canonicalRequest.utf8)) == "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        )
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test("PUT Object with a key that needs percent-encoding and a signed payload: AWS's string to sign and signature")
    func putObject() {
        let payloadHash = SignatureV4.hexSHA256(Array("Welcome to Amazon S3.".utf8))
        #expect(payloadHash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = signer.sign(
            method: "PUT", path: "/" + SignatureV4.encode("test$file.text", keepSlash: true), query: [],
            headers: [
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"), host, ("x-amz-date", date), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", payloadHash),
            ],
            payloadHash: payloadHash, date: date)
        #expect(signed.canonicalRequest.split(separator: "\n").dropFirst().first == "/test%24file.text")
        #expect(
            signed.stringToSign
                == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                + "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d")
        #expect(signed.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test("GET Bucket lifecycle: a query parameter without a value")
    func getLifecycle() {
        let signed = signer.sign(
            method: "GET", path: "/", query: [("lifecycle", "")],
            headers: [host, ("x-amz-date", date), ("x-amz-content-sha256", SignatureV4.emptyPayloadHash)],
            payloadHash: SignatureV4.emptyPayloadHash, date: date)
        #expect(signed.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test("GET Bucket (List Objects): query parameters sorted by name")
    func listObjects() {
        let signed = signer.sign(
            method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")],
            headers: [host, ("x-amz-date", date), ("x-amz-content-sha256", SignatureV4.emptyPayloadHash)],
            payloadHash: SignatureV4.emptyPayloadHash, date: date)
        #expect(
            signed.stringToSign.hasSuffix("df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7"))
        #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test("The storage URL, endpoint and credentials are read, and a bad URL or missing credentials are clear errors")
    func configuration() throws {
        let environment = ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_REGION": "eu-west-1"]
        let aws = try S3Configuration(url: "s3://atrium-blobs/hospital/a/", environment: environment)
        #expect(aws.bucket == "atrium-blobs")
        #expect(aws.prefix == "hospital/a")
        #expect(aws.host == "s3.eu-west-1.amazonaws.com")
        #expect(aws.pathStyle == false)
        let minio = try S3Configuration(
            url: "s3://atrium", settings: S3Settings(endpoint: "http://127.0.0.1:9000"), environment: environment)
        #expect(minio.scheme == "http")
        #expect(minio.port == 9000)
        #expect(minio.pathStyle == true)
        #expect(minio.prefix == "")
        #expect(throws: ArchiveError.self) { try S3Configuration(url: "s3://Bad_Bucket/x", environment: environment) }
        #expect(throws: ArchiveError.self) { try S3Configuration(url: "/var/atrium", environment: environment) }
        do {
            _ = try S3Configuration(url: "s3://atrium", environment: [:])
            Issue.record("missing credentials were accepted")
        } catch {
            #expect("\(error)".contains("AWS_ACCESS_KEY_ID"))
        }
    }
}
