import ArgumentParser
import Foundation
import Training

/// `atrium bench originality`: runs the originality check over a set of short answers (bench/originality.sh generates
/// them) and prints the flagged pairs as JSON, for the script to score against the set's ground truth.
struct BenchOriginality: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "originality",
        abstract: "Flag similar pairs among the answers of a JSON file ([{\"id\", \"text\"}]); print them as JSON."
    )

    @Option(help: "Jaccard similarity at which a pair is flagged.")
    var threshold: Double = OriginalityOptions().threshold

    @Option(help: "Share of documents above which a shingle is boilerplate and ignored (0 keeps every shingle).")
    var boilerplateShare: Double = 0

    @Argument(help: "The answers: a JSON array of objects with id and text.")
    var path: String

    func run() throws {
        let documents = try JSONDecoder().decode([OriginalityDocument].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        var options = OriginalityOptions()
        options.threshold = threshold
        options.boilerplateShare = boilerplateShare > 0 ? boilerplateShare : nil
        let start = ContinuousClock.now
        let flags = OriginalityCheck.flags(documents, options: options)
        let elapsed = ContinuousClock.now - start
        struct Output: Encodable {
            var documents: Int
            var seconds: Double
            var threshold: Double
            var boilerplateShare: Double
            var flags: [OriginalityFlag]
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let output = Output(
            documents: documents.count, seconds: seconds, threshold: threshold, boilerplateShare: boilerplateShare, flags: flags)
        print(String(decoding: try encoder.encode(output), as: UTF8.self))
    }
}
