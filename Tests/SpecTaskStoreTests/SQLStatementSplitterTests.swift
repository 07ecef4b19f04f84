import Testing

@testable import SpecTaskStore

@Suite("Splitting migration scripts into statements")
struct SQLStatementSplitterTests {
    @Test("top-level semicolons separate statements; blank and comment-only pieces vanish")
    func basic() {
        #expect(SQLStatementSplitter.split("SELECT 1; SELECT 2;\n\n-- the end\n") == ["SELECT 1", "SELECT 2"])
        #expect(SQLStatementSplitter.split("SELECT 1") == ["SELECT 1"])
        #expect(SQLStatementSplitter.split("") == [])
        #expect(SQLStatementSplitter.split(" ;;; ") == [])
    }

    @Test("semicolons inside strings, identifiers and comments do not split")
    func quoted() {
        let sql = """
            INSERT INTO t VALUES ('a;b', 'it''s; fine'); -- trailing; comment
            CREATE TABLE "odd;name" (x int); /* block; comment */ SELECT 3;
            """
        #expect(
            SQLStatementSplitter.split(sql) == [
                "INSERT INTO t VALUES ('a;b', 'it''s; fine')",
                "-- trailing; comment\nCREATE TABLE \"odd;name\" (x int)",
                "/* block; comment */ SELECT 3",
            ]
        )
    }

    @Test("dollar-quoted bodies stay whole, with or without a tag")
    func dollarQuotes() {
        let sql = """
            CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;
            CREATE FUNCTION g() RETURNS text AS $body$ SELECT '$$;'; $body$ LANGUAGE sql;
            SELECT $1;
            """
        let statements = SQLStatementSplitter.split(sql)
        #expect(statements.count == 3)
        #expect(statements[0].hasSuffix("$$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql"))
        #expect(statements[1].hasSuffix("$body$ SELECT '$$;'; $body$ LANGUAGE sql"))
        #expect(statements[2] == "SELECT $1")
    }

    @Test("unterminated quotes and comments swallow the rest instead of crashing")
    func unterminated() {
        #expect(SQLStatementSplitter.split("SELECT 'open; SELECT 2") == ["SELECT 'open; SELECT 2"])
        #expect(SQLStatementSplitter.split("SELECT 1; /* open; SELECT 2") == ["SELECT 1", "/* open; SELECT 2"])
        #expect(SQLStatementSplitter.split("SELECT $x$ open;") == ["SELECT $x$ open;"])
    }
}
