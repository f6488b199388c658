import ArgumentParser

@main
struct Atrium: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atrium",
        abstract: "Atrium: a teaching PACS for a regional imaging alliance.",
        subcommands: [
            Serve.self, Import.self,
            Dump.self, Transcode.self, Render.self, Mask.self, Anonymize.self,
            Echo.self, Send.self, Find.self, Move.self, Get.self, StoreSCP.self,
            Bench.self,
            User.self, InstitutionCommand.self, Token.self, Demo.self,
            BackupCommand.self, RestoreCommand.self,
        ]
    )
}
