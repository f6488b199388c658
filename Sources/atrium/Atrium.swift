import ArgumentParser

@main
struct Atrium: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atrium",
        abstract: "Atrium: a teaching PACS for a regional imaging alliance.",
        subcommands: [Dump.self, Transcode.self]
    )
}
