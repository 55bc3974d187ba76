/// The words of one subcommand's command line, split into options and operands.
/// Options are `--name value`, `--name=value` or switches without a value; `-h` is
/// `--help`; everything after `--` is an operand.
struct Arguments {
    /// The options a command accepts.
    struct Grammar: Sendable {
        /// Options that take a value.
        let valued: Set<String>
        /// Options that take none.
        let switches: Set<String>
    }

    private var values: [String: String] = [:]
    private var givenSwitches: Set<String> = []
    private(set) var operands: [String] = []

    init(_ words: [String], grammar: Grammar) throws(CLIError) {
        var remaining = words[...]
        while let word = remaining.popFirst() {
            if word == "--" {
                operands += remaining
                break
            }
            if word == "-h" {
                givenSwitches.insert("help")
                continue
            }
            guard word.hasPrefix("--") else {
                operands.append(word)
                continue
            }
            let (name, inlineValue) = Self.split(option: word)
            if name == "help" || grammar.switches.contains(name) {
                guard inlineValue == nil else { throw .usage("--\(name) takes no value") }
                guard givenSwitches.insert(name).inserted else { throw .usage("--\(name) is given twice") }
            } else if grammar.valued.contains(name) {
                // The next word is the value even if it starts with a dash: `--min-delta -1`
                // should reach the range check, not look like an unknown option.
                guard let value = inlineValue ?? remaining.popFirst() else { throw .usage("--\(name) needs a value") }
                guard values.updateValue(value, forKey: name) == nil else { throw .usage("--\(name) is given twice") }
            } else {
                throw .usage("unknown option --\(name)")
            }
        }
    }

    /// "--name=value" → ("name", "value"); "--name" → ("name", nil).
    private static func split(option word: String) -> (String, String?) {
        let body = word.dropFirst(2)
        guard let equals = body.firstIndex(of: "=") else { return (String(body), nil) }
        return (String(body[..<equals]), String(body[body.index(after: equals)...]))
    }

    var wantsHelp: Bool { givenSwitches.contains("help") }

    func isSet(_ name: String) -> Bool {
        givenSwitches.contains(name)
    }

    func string(_ name: String) -> String? {
        values[name]
    }

    func requiredString(_ name: String) throws(CLIError) -> String {
        guard let value = values[name] else { throw .usage("--\(name) is required") }
        return value
    }

    func integer(_ name: String, atLeast minimum: Int) throws(CLIError) -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text) else { throw .usage("--\(name): \"\(text)\" is not an integer") }
        guard value >= minimum else { throw .usage("--\(name) is \(value); it must be at least \(minimum)") }
        return value
    }

    func unsignedInteger(_ name: String) throws(CLIError) -> UInt64? {
        guard let text = values[name] else { return nil }
        guard let value = UInt64(text) else { throw .usage("--\(name): \"\(text)\" is not a non-negative integer") }
        return value
    }

    /// A finite number; the library checks the ranges of the values it takes, the tool those
    /// of the values it uses itself.
    func number(_ name: String, atLeast minimum: Double = -.infinity) throws(CLIError) -> Double? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text) else { throw .usage("--\(name): \"\(text)\" is not a number") }
        guard value.isFinite else { throw .usage("--\(name): \"\(text)\" is not a finite number") }
        guard value >= minimum else { throw .usage("--\(name) is \(text); it must be at least \(Format.plain(minimum))") }
        return value
    }

    /// A comma-separated list such as `64,32,10`, each item parsed by `parse`.
    func list<Item>(_ name: String, _ parse: (String) throws(CLIError) -> Item) throws(CLIError) -> [Item]? {
        guard let text = values[name] else { return nil }
        var items: [Item] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            items.append(try parse(String(item).trimmingWhitespace()))
        }
        return items
    }

    /// Refuses operands for commands that take none, or more than `count`.
    func operands(atMost count: Int) throws(CLIError) -> [String] {
        guard operands.count <= count else {
            throw .usage("unexpected argument \"\(operands[count])\"")
        }
        return operands
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[first ... last])
    }
}
