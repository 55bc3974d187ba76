/// The options that name a data set, shared by train, predict and evaluate.
enum DataOptions {
    static let valued: Set<String> = ["data", "labels", "label-column"]
    static let switches: Set<String> = ["header", "no-header"]

    static let usage = """
          --data FILE            a CSV file of numbers, or MNIST IDX images (told apart by
                                 their first bytes; gzip-compressed files must be unpacked)
          --labels FILE          the IDX labels of IDX images
          --label-column COLUMN  the CSV column of the labels: a 0-based index or a header
                                 name (default: the last column)
          --header, --no-header  whether the CSV file's first row names the columns (default:
                                 it does when it has a field that is not a number)
        """

    /// The column named by --label-column, if any.
    static func labelColumn(_ arguments: Arguments) -> LabelColumn? {
        arguments.string("label-column").map(LabelColumn.init)
    }

    static func read(_ arguments: Arguments, labelRule: LabelRule) throws(CLIError) -> Samples {
        try Samples.read(
            data: arguments.requiredString("data"), labels: arguments.string("labels"),
            headerRow: headerRow(arguments), labelRule: labelRule)
    }

    private static func headerRow(_ arguments: Arguments) throws(CLIError) -> CSVTable.HeaderRow {
        switch (arguments.isSet("header"), arguments.isSet("no-header")) {
        case (true, true): throw .usage("--header and --no-header contradict each other")
        case (true, false): return .present
        case (false, true): return .absent
        case (false, false): return .automatic
        }
    }
}
