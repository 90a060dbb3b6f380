/** The built-in analyser: language detection, outline, figures, findings, robustness and determinism. */
import { describe, expect, it } from "vitest";
import { analyze, detectLanguage, redact, type Analysis, type Finding } from "../../workers/cell/analysis";

const rules = (a: Analysis) => a.findings.map((f) => `${f.line}:${f.rule}`);
const byRule = (a: Analysis, rule: string) => a.findings.filter((f) => f.rule === rule);
const text = (...lines: string[]) => lines.join("\n") + "\n";

describe("language detection", () => {
  it.each([
    ["src/app.ts", "typescript"],
    ["App.tsx", "typescript"],
    ["index.mjs", "javascript"],
    ["main.py", "python"],
    ["main.go", "go"],
    ["lib.rs", "rust"],
    ["Main.java", "java"],
    ["util.c", "c"],
    ["util.hpp", "cpp"],
    ["build.sh", "shell"],
  ])("%s by extension is %s", (file, language) => {
    expect(detectLanguage("", { file })).toEqual({ language, confidence: 0.95, detected_by: "extension" });
  });

  const SAMPLES: [string, string][] = [
    ["typescript", text("import { x } from './x';", "export interface User {", "  name: string;", "}", "const n: number = 1;")],
    ["javascript", text("const fs = require('fs');", "function go(a) {", "  console.log(a === 1);", "}", "module.exports = go;")],
    ["python", text("import os", "", "class A:", "    def run(self, x):", "        return self.x")],
    ["go", text("package main", "", 'import "fmt"', "", "func main() {", "\tx := 1", "\tfmt.Println(x)", "}")],
    [
      "rust",
      text("use std::io;", "", "pub fn main() {", "    let mut v: Vec<u8> = Vec::new();", '    println!("{}", v.len());', "}"),
    ],
    [
      "java",
      text(
        "package demo;",
        "import java.util.List;",
        "public class Main {",
        "  public static void main(String[] a) {",
        "    System.out.println(1);",
        "  }",
        "}",
      ),
    ],
    [
      "c",
      text(
        "#include <stdio.h>",
        "#include <stdlib.h>",
        "int main(void) {",
        "  char *p = malloc(4);",
        '  printf("%p", p);',
        "  free(p);",
        "}",
      ),
    ],
    [
      "cpp",
      text(
        "#include <iostream>",
        "#include <vector>",
        "namespace app {",
        "int main() {",
        "  std::vector<int> v;",
        "  std::cout << v.size();",
        "}",
        "}",
      ),
    ],
    ["shell", text("#!/usr/bin/env bash", "set -euo pipefail", 'echo "$HOME"')],
    ["shell", text("if [ -f x ]; then", "  echo yes", "fi", "for f in *; do", '  rm -f "$f"', "done")],
  ];
  it.each(SAMPLES)("content heuristics recognise %s", (language, code) => {
    const info = detectLanguage(code);
    expect(info.language).toBe(language);
    expect(info.detected_by).toBe("content");
    expect(info.confidence).toBeGreaterThan(0);
    expect(info.confidence).toBeLessThanOrEqual(0.9);
  });

  it("prefers a given language, accepts aliases and VS Code ids, and keeps an unknown one", () => {
    expect(detectLanguage("def f(): pass", { language: "go", file: "x.py" })).toEqual({
      language: "go",
      confidence: 1,
      detected_by: "given",
    });
    expect(detectLanguage("", { language: "typescriptreact" }).language).toBe("typescript");
    expect(detectLanguage("", { language: "shellscript" }).language).toBe("shell");
    expect(detectLanguage("", { language: "C++" }).language).toBe("cpp");
    expect(detectLanguage("", { language: "COBOL" })).toEqual({ language: "cobol", confidence: 0, detected_by: "given" });
  });

  it("says unknown when there is no evidence", () => {
    expect(detectLanguage("hello there\nplain words\n")).toEqual({ language: "unknown", confidence: 0, detected_by: "content" });
    expect(detectLanguage("", { file: "notes.txt" }).language).toBe("unknown");
  });

  it("analyses an unknown given language generically", () => {
    const a = analyze(text("function f(x) {", "  // TODO: port", "  if (x) { return 1 }", "}"), { language: "cobol" });
    expect(a.language.detected_by).toBe("given");
    expect(a.outline.map((o) => [o.name, o.start_line, o.end_line])).toEqual([["f", 1, 4]]);
    expect(rules(a)).toContain("2:todo");
  });
});

describe("outline", () => {
  it("finds TypeScript classes, methods and functions with their lines", () => {
    const code = text(
      "export interface Options {", //  1
      "  name: string;",
      "}",
      "",
      "export class Service<T> extends Base {", //  5
      '  private items: T[] = ["{"];',
      "  constructor(private readonly name: string) {",
      "    super(); // }",
      "  }",
      "  abstract stop(): void;", // 10
      "  async run<R>(",
      "    input: T,",
      "    map: (t: T) => R,",
      "  ): Promise<R[]> {",
      "    const s = `}${input}`;", // 15
      "    return [];",
      "  }",
      "  handle = async (e: Event) => {",
      "    return /}/.test(e.type);",
      "  };", // 20
      "}",
      "",
      "export const double = (n: number) => n * 2;",
      "function outer(cb: () => void) {",
      "  /* } */", // 25
      "  cb();",
      "}",
    );
    const a = analyze(code, { file: "service.ts" });
    expect(a.outline.map((o) => [o.kind, o.name, o.start_line, o.end_line, o.parent ?? null, o.params ?? null])).toEqual([
      ["interface", "Options", 1, 3, null, null],
      ["class", "Service", 5, 21, null, null],
      ["method", "constructor", 7, 9, "Service", 1],
      ["method", "run", 11, 17, "Service", 2],
      ["method", "handle", 18, 20, "Service", 1],
      ["function", "double", 23, 23, null, 1],
      ["function", "outer", 24, 27, null, 1],
    ]);
    expect(a.summary.functions).toBe(5);
    expect(a.summary.classes).toBe(2);
  });

  it("finds Python classes, methods and functions by indentation", () => {
    const code = text(
      "import os", //  1
      "",
      "class Greeter:",
      '    """Greets.',
      "",
      "    def not_a_method(self): (this is docstring text)", //  6
      '    """',
      "",
      "    def __init__(self, name):",
      "        self.name = name", // 10
      "",
      "    # a comment at a lower indent does not end the method",
      "    def greet(self,",
      "              loud=False):",
      "        if loud:", // 15
      "            return self.name.upper()",
      "        return self.name",
      "",
      "",
      "async def main(*args, **kwargs):", // 20
      "    def inner():",
      "        pass",
      "    return inner",
    );
    const a = analyze(code, { file: "greet.py" });
    expect(a.outline.map((o) => [o.kind, o.name, o.start_line, o.end_line, o.parent ?? null, o.params ?? null])).toEqual([
      ["class", "Greeter", 3, 17, null, null],
      ["method", "__init__", 9, 10, "Greeter", 1],
      ["method", "greet", 13, 17, "Greeter", 1],
      ["function", "main", 20, 23, null, 2],
      ["function", "inner", 21, 22, null, 0],
    ]);
  });

  it("finds Go functions, methods, structs and interfaces", () => {
    const code = text(
      "package main", // 1
      "",
      "type Server struct {",
      "\tname string",
      "}", // 5
      "",
      "type Handler interface {",
      "\tServe() error",
      "}",
      "", // 10
      "func (s *Server) Start(port int, host string) error {",
      '\tmsg := "}"',
      "\treturn nil",
      "}",
      "", // 15
      "func main() {",
      "\tfor i := 0; i < 3; i++ {",
      "\t}",
      "}",
    );
    const a = analyze(code, { file: "main.go" });
    expect(a.outline.map((o) => [o.kind, o.name, o.start_line, o.end_line, o.parent ?? null, o.params ?? null])).toEqual([
      ["struct", "Server", 3, 5, null, null],
      ["interface", "Handler", 7, 9, null, null],
      ["method", "Start", 11, 14, "Server", 2],
      ["function", "main", 16, 19, null, 0],
    ]);
  });

  it("finds Rust impls and methods, Java classes and methods, C functions and C++ classes", () => {
    const rust = analyze(
      text(
        "struct P { x: i32 }",
        "impl P {",
        "    fn get(&self, k: u8) -> i32 {",
        "        let c = '}';",
        "        self.x",
        "    }",
        "}",
      ),
      {
        file: "p.rs",
      },
    );
    expect(rust.outline.map((o) => [o.kind, o.name, o.start_line, o.end_line, o.params ?? null])).toEqual([
      ["struct", "P", 1, 1, null],
      ["impl", "P", 2, 7, null],
      ["method", "get", 3, 6, 1],
    ]);
    const java = analyze(
      text("public class A {", "  public A(int x) {", "  }", "  static <T> T id(T t) {", "    return t;", "  }", "}"),
      {
        file: "A.java",
      },
    );
    expect(java.outline.map((o) => [o.kind, o.name, o.start_line, o.end_line])).toEqual([
      ["class", "A", 1, 7],
      ["method", "A", 2, 3],
      ["method", "id", 4, 6],
    ]);
    const c = analyze(
      text("int add(int a, int b);", "", "int add(int a, int b)", "{", "  return a + b;", "}", "int main(void) { return 0; }"),
      {
        file: "a.c",
      },
    );
    expect(c.outline.map((o) => [o.name, o.start_line, o.end_line, o.params])).toEqual([
      ["add", 3, 6, 2],
      ["main", 7, 7, 0],
    ]);
    const cpp = analyze(
      text("class W : public B {", "public:", "  int size() const { return n; }", "};", "W::W() : n(0) {", "}"),
      {
        file: "w.cpp",
      },
    );
    expect(cpp.outline.map((o) => [o.kind, o.name, o.parent ?? null, o.start_line, o.end_line])).toEqual([
      ["class", "W", null, 1, 4],
      ["method", "size", "W", 3, 3],
      ["method", "W", "W", 5, 6],
    ]);
  });

  it("finds shell functions", () => {
    const a = analyze(text("#!/bin/sh", "set -e", "build() {", '  echo "}"', "}", "function clean {", "  rm -f x", "}"), {
      file: "x.sh",
    });
    expect(a.outline.map((o) => [o.name, o.start_line, o.end_line])).toEqual([
      ["build", 3, 5],
      ["clean", 6, 8],
    ]);
  });
});

describe("figures", () => {
  const TS = text(
    "function grade(score: number, bonus: boolean): string {",
    "  if (score > 90 && bonus) {",
    '    return "A";',
    "  } else if (score > 80 || bonus) {",
    '    return "B";',
    "  }",
    "  for (let i = 0; i < 3; i++) {",
    "    while (score > 0) {",
    "      score -= 1; // if while for && in a comment do not count",
    "    }",
    "  }",
    '  return score > 50 ? "C" : "D ? if && ||";',
    "}",
  );

  it("counts lines, parameters, cyclomatic complexity and nesting of a known function", () => {
    const [f] = analyze(TS, { file: "g.ts" }).outline;
    // 1 + if, &&, else if, ||, for, while, ?:
    expect(f).toEqual({
      name: "grade",
      kind: "function",
      start_line: 1,
      end_line: 13,
      lines: 13,
      params: 2,
      complexity: 8,
      max_nesting: 2,
    });
  });

  it("counts the same for Python", () => {
    const py = text(
      "def grade(score, bonus=False):",
      "    if score > 90 and bonus:",
      '        return "A"',
      "    elif score > 80 or bonus:",
      '        return "B"',
      "    for i in range(3):",
      "        while score > 0:",
      "            score -= 1  # if while for",
      '    return "C" if score > 50 else "D"',
    );
    const [f] = analyze(py, { file: "g.py" }).outline;
    expect(f).toMatchObject({ name: "grade", start_line: 1, end_line: 9, params: 2, complexity: 8, max_nesting: 2 });
  });

  it("summarises the file", () => {
    const code = text(
      "// header",
      "/* block",
      "   comment */",
      "",
      "const a = 1; // trailing",
      "",
      "function f() {",
      "  if (a) {",
      "    if (a) {}",
      "  }",
      "}",
    );
    expect(analyze(code, { file: "x.js" }).summary).toEqual({
      lines: 11,
      code_lines: 6,
      comment_lines: 3,
      blank_lines: 2,
      max_nesting: 2,
      functions: 1,
      classes: 0,
      truncated: false,
    });
  });

  it("flags long, complex and deeply nested functions", () => {
    const body = Array.from({ length: 85 }, (_, i) => `  x += ${i};`);
    const nested = [
      "  if (a) {",
      "    if (b) {",
      "      for (;;) {",
      "        while (c) {",
      "          if (d || e || f || g || h || a) {}",
      "        }",
      "      }",
      "    }",
      "  }",
    ];
    const code = text("function big(a, b, c, d, e, f, g, h) {", "  let x = 0;", ...body, ...nested, "}");
    const found = analyze(code, { file: "big.js" })
      .findings.filter((f) => f.line === 1)
      .map((f) => f.rule);
    expect(found).toEqual(["complexity", "deep-nesting", "long-function"]);
  });
});

describe("secrets", () => {
  // Built at run time so this file itself does not look like it holds credentials.
  const j = (...parts: string[]) => parts.join("");
  const SECRETS: [string, string, string][] = [
    ["AWS access key id", j("AKIA", "IOSFODNN7EXAMPLE"), 'const id = "$";'],
    ["AWS secret access key", j("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY"), 'aws_secret_access_key = "$"'],
    ["GitHub token", j("ghp_", "a1B2c3D4".repeat(4), "e5F6"), 'const t = "$";'],
    ["GitHub token", j("github_pat_", "11ABCDEFG0123456789_abcdefghijklmnop"), "export GH=$"],
    ["Slack token", j("xoxb-", "123456789012-abcdefABCDEF"), 'slack("$")'],
    ["Google API key", j("AIza", "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"), 'key: "$",'],
    ["Stripe live key", j("sk_", "live_", "4eC39HqLyjWDarjtT1zdp7dc"), 'stripe = Stripe("$")'],
    [
      "JSON Web Token",
      j("eyJhbGciOiJIUzI1NiJ9", ".", "eyJzdWIiOiIxMjM0NTY3ODkwIn0", ".", "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
      "auth = '$'",
    ],
    ["private key block", j("-----BEGIN RSA ", "PRIVATE KEY-----"), "$"],
    ["credential literal", "hunter2Hunter2!", 'db_password = "$"'],
    ["credential literal", "Zx9-kq2LmN4pQ7rS", 'const apiKey = "$";'],
  ];

  it.each(SECRETS)("detects a %s and never shows its value", (what, value, template) => {
    const code = text("// config", template.replace("$", value));
    const found = byRule(analyze(code, { file: "config.ts" }), "secret");
    expect(found).toHaveLength(1);
    const f = found[0] as Finding;
    expect(f).toMatchObject({ severity: "error", line: 2 });
    expect(f.message).toContain(what);
    expect(f.message).not.toContain(value);
    if (what !== "private key block") {
      expect(f.message).not.toContain(value.slice(0, 8));
      expect(f.message).toContain(`${value.slice(0, value.length >= 16 ? 4 : 2)}…`);
    }
  });

  it("leaves placeholders, names and types alone", () => {
    const code = text(
      'password = "${DB_PASSWORD}"',
      'token = "your_token_here"',
      "password: string;",
      'const TOKEN_KEY = "auth_token";',
      'api_key = os.environ["API_KEY"]',
      'secret = "short"',
    );
    expect(byRule(analyze(code, { file: "x.py" }), "secret")).toEqual([]);
  });

  it("redacts secrets from text, including whole private key blocks", () => {
    const key = ["ghp_", "Q".repeat(36)].join("");
    const pem = ["-----BEGIN ", "PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END ", "PRIVATE KEY-----"].join("");
    const out = redact(`token ${key} and\n${pem}\nend`);
    expect(out).not.toContain(key);
    expect(out).toContain("ghp_…");
    expect(out).not.toContain("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC");
  });

  it("masks a secret quoted in a TODO comment", () => {
    const key = ["ghp_", "R".repeat(36)].join("");
    const a = analyze(text(`// TODO: rotate ${key} before release`), { file: "x.ts" });
    expect(JSON.stringify(a)).not.toContain(key);
    expect(rules(a)).toEqual(["1:secret", "1:todo"]);
  });
});

describe("findings", () => {
  const CASES: [string, string, string[], string[]][] = [
    // [file, code lines, expected "line:rule" present, ...]
    [
      "x.ts",
      "var a = 1;|if (a == 2) console.log(a);|if (a == null) {}|eval(s);|try { f(); } catch (e) {}|debugger;",
      ["1:no-var", "2:eqeqeq", "2:console", "4:eval", "5:empty-catch", "6:debugger"],
      ["3:eqeqeq"],
    ],
    [
      "x.js",
      'try {|  f();|} catch {|}|const s = "a == b; eval(x)"; // var x == y',
      ["3:empty-catch"],
      ["5:eqeqeq", "5:eval", "5:no-var"],
    ],
    [
      "x.py",
      "def f(a, b=[], c={}):|    try:|        x = eval(a)|    except:|        pass|    return x is 'y' or b is not None",
      ["1:mutable-default", "3:eval", "4:bare-except", "4:except-pass", "6:is-literal"],
      [],
    ],
    [
      "x.go",
      'package main|func f() {|\tv, err := g()|\tuse(v)|\t_ = h()|\tfor _, x := range xs {|\t\tdefer x.Close()|\t}|\tif err.Error() == "x" {|\t}|}',
      ["3:err-unchecked", "5:error-discarded", "7:defer-in-loop", "9:error-string-compare"],
      [],
    ],
    [
      "x.go",
      "package main|func f() error {|\tv, err := g()|\tif err != nil {|\t\treturn err|\t}|\tdefer v.Close()|\treturn nil|}",
      [],
      ["3:err-unchecked", "7:defer-in-loop"],
    ],
    [
      "x.sh",
      'DIR=$1|rm -rf $DIR/tmp|rm -rf "$DIR/tmp"|cd build|if [ $DIR = x ]; then echo `date`; fi',
      ["1:missing-set-e", "2:unquoted-rm", "4:cd-unchecked", "5:unquoted-test", "5:backticks"],
      ["3:unquoted-rm"],
    ],
    ["x.sh", 'set -eu|cd build|rm -f "$X"', [], ["1:missing-set-e", "2:cd-unchecked"]],
    [
      "x.rs",
      "fn main() {|    let v = f().unwrap();|    unsafe { g(); }|    todo!()|}",
      ["2:unwrap", "3:unsafe", "4:todo-macro"],
      [],
    ],
    [
      "X.java",
      'class X {|  void f(String s) {|    if (s == "a") {}|    try { g(); } catch (Exception e) { e.printStackTrace(); }|  }|}',
      ["3:string-equality", "4:catch-generic", "4:print-stack-trace"],
      [],
    ],
    [
      "x.c",
      'int main(void) {|  char b[8];|  gets(b);|  strcpy(b, "x");|  sprintf(b, "%d", 1);|  snprintf(b, 8, "%d", 1);|}',
      ["3:gets", "4:strcpy", "5:sprintf"],
      ["6:sprintf"],
    ],
    ["x.cpp", "void f() {|  try { g(); } catch (...) {}|  strcat(a, b);|}", ["2:empty-catch", "3:strcpy"], []],
    ["x.ts", "// TODO: later|/* FIXME broken */|const s = 'TODO not a comment';|# XXX", ["1:todo", "2:todo"], ["3:todo"]],
  ];

  it.each(CASES)("%s: %s", (file, code, present, absent) => {
    const found = rules(analyze(text(...code.split("|")), { file }));
    for (const r of present) expect(found).toContain(r);
    for (const r of absent) expect(found).not.toContain(r);
  });

  it("gives TODO and FIXME severities and keeps findings sorted by line then rule", () => {
    const a = analyze(text("// FIXME: b", "var x = 1; // TODO: a", "eval(x)"), { file: "x.js" });
    expect(a.findings.map((f) => [f.line, f.rule, f.severity])).toEqual([
      [1, "todo", "warning"],
      [2, "no-var", "warning"],
      [2, "todo", "info"],
      [3, "eval", "warning"],
    ]);
    expect(a.findings[0]!.message).toBe("FIXME: b");
  });
});

describe("robustness", () => {
  // A small deterministic generator, so failures reproduce.
  function noise(n: number, seed: number): string {
    let x = seed;
    let s = "";
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      s += String.fromCharCode(x % 7 === 0 ? 10 : x % 0x3000);
    }
    return s;
  }

  const NASTY: [string, string][] = [
    ["empty", ""],
    ["newlines only", "\n\n\n"],
    ["binary-ish", noise(20_000, 7)],
    ["unbalanced braces", "}}}}{{{{ ) ( ] [ {{{{{"],
    ["unterminated comment", "/* never closed\nfunction f() {"],
    ["unterminated strings", '"'.repeat(10_001) + "\n'`" + "`".repeat(999)],
    ["a huge line", "x = 1; ".repeat(300_000)],
    ["many slashes", "a = 1 / ".repeat(50_000)],
    ["deep parens", "(".repeat(100_000) + "{".repeat(100_000)],
    ["many words without parens", "int * & ".repeat(50_000)],
    ["many short lines", "if (x) {\n".repeat(60_000)],
    ["CRLF and lone CR", "function f() {\r\n  return 1;\r}\r\n"],
  ];

  it.each(NASTY)("never throws on %s, in any language", (_name, code) => {
    for (const language of ["typescript", "python", "go", "rust", "java", "c", "cpp", "shell", "unknown-lang"]) {
      const a = analyze(code, { language });
      expect(a.layer).toBe("builtin");
      expect(Array.isArray(a.findings)).toBe(true);
    }
    expect(analyze(code).layer).toBe("builtin");
  });

  it("caps pathological input and says so", () => {
    const a = analyze("x\n".repeat(60_000), { language: "python" });
    expect(a.summary.truncated).toBe(true);
    expect(a.summary.lines).toBe(50_000);
  });

  it("accepts a non-string without throwing", () => {
    expect(analyze(undefined as unknown as string).summary.lines).toBe(0);
    expect(analyze(42 as unknown as string, null as unknown as { file: string }).layer).toBe("builtin");
  });

  it("is deterministic and plain JSON", () => {
    const code = text(
      "import os",
      "def f(x=[]):  # TODO",
      "    if x is 1:",
      "        return eval(x)",
      'password = "hunter2Hunter2!"',
    );
    const a = analyze(code, { file: "x.py" });
    const b = analyze(code, { file: "x.py" });
    expect(b).toEqual(a);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(Object.keys(a)).toEqual(["language", "summary", "outline", "findings", "layer"]);
  });
});
