import ArgumentParser
struct Demo: ParsableCommand { static let configuration = CommandConfiguration(abstract: "Load a demo county."); func run() throws {} }
