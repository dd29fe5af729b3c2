// The grammar of the loss-spec language as a chevrotain CstParser (syntax only; grammar/to-ast.ts builds the AST).
import type { IParserErrorMessageProvider } from 'chevrotain';
import { chevrotain } from './chevrotain.js';
import * as T from './lexer.js';

export class SpecCstParser extends chevrotain.CstParser {
  /** `validate`: run chevrotain's grammar checks (ambiguities, left recursion). Costly at startup, so the
   *  compiler skips them and test/grammar.test.ts runs them. */
  constructor(messages: IParserErrorMessageProvider, validate = false, traceInitPerf: boolean | number = false) {
    super(T.allTokens, {
      recoveryEnabled: true,
      nodeLocationTracking: 'onlyOffset',
      maxLookahead: 3,
      errorMessageProvider: messages,
      skipValidations: !validate,
      traceInitPerf,
    });
    this.performSelfAnalysis();
  }

  /** Name of the declaration being parsed, for error messages ("... of KDLoss"). */
  currentDecl: string | undefined;

  /** One declaration and the separators after it. grammar/parser.ts cuts the token stream before every
   *  declaration keyword and parses each piece with this rule, so an error never spills into the next one. */
  declUnit = this.RULE('declUnit', () => {
    this.SUBRULE(this.decl);
    this.MANY(() => this.OR([{ ALT: () => this.CONSUME(T.Newline) }, { ALT: () => this.CONSUME(T.Semi) }]));
  });

  decl = this.RULE('decl', () => {
    this.ACTION(() => (this.currentDecl = undefined));
    this.OR([
      { ALT: () => this.SUBRULE(this.structDecl) },
      { ALT: () => this.SUBRULE(this.lossDecl) },
      { ALT: () => this.SUBRULE(this.funcDecl) },
    ]);
  });

  private declName(): void {
    const name = this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.ACTION(() => (this.currentDecl = name.image));
  }

  // ---- declarations ------------------------------------------------------------------------------------
  structDecl = this.RULE('structDecl', () => {
    this.CONSUME(T.Struct);
    this.declName();
    this.CONSUME(T.LCurly);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.CONSUME(T.Newline) },
        { ALT: () => this.CONSUME(T.Comma) },
        { ALT: () => this.SUBRULE(this.structField) },
      ]),
    );
    this.CONSUME(T.RCurly);
  });

  structField = this.RULE('structField', () => {
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.literal);
    });
  });

  lossDecl = this.RULE('lossDecl', () => {
    this.OR(T.LEVEL_TOKENS.map((tok) => ({ ALT: () => this.CONSUME(tok, { LABEL: 'level' }) })));
    this.declName();
    this.SUBRULE(this.paramList);
    this.OPTION(() => this.SUBRULE(this.callParamList));
    this.SUBRULE(this.block);
  });

  paramList = this.RULE('paramList', () => {
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.paramItem);
      this.MANY({
        GATE: () => this.LA(2).tokenType !== T.RParen,
        DEF: () => {
          this.CONSUME(T.Comma);
          this.SUBRULE2(this.paramItem);
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RParen);
  });

  paramItem = this.RULE('paramItem', () => {
    this.OR([{ ALT: () => this.SUBRULE(this.restParam) }, { ALT: () => this.SUBRULE(this.param) }]);
  });

  param = this.RULE('param', () => {
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeExpr);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.literal);
    });
  });

  restParam = this.RULE('restParam', () => {
    this.CONSUME(T.StarStar);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(T.Colon);
      this.CONSUME2(T.Identifier, { LABEL: 'forwardTo' });
    });
  });

  callParamList = this.RULE('callParamList', () => {
    this.CONSUME(T.LParen);
    this.OPTION(() => this.SUBRULE(this.nameList));
    this.CONSUME(T.RParen);
  });

  funcDecl = this.RULE('funcDecl', () => {
    this.CONSUME(T.Def);
    this.declName();
    this.CONSUME(T.LParen);
    this.OPTION(() => this.SUBRULE(this.defParamList));
    this.CONSUME(T.RParen);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Equals);
          this.SUBRULE(this.expr);
        },
      },
      { ALT: () => this.SUBRULE(this.block) },
    ]);
  });

  /** `def f(x, dim, keepdim=false)`: names, each with an optional literal default. */
  defParamList = this.RULE('defParamList', () => {
    this.SUBRULE(this.defParam);
    this.MANY({
      GATE: () => this.LA(2).tokenType !== T.RParen,
      DEF: () => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.defParam);
      },
    });
    this.OPTION(() => this.CONSUME2(T.Comma));
  });

  defParam = this.RULE('defParam', () => {
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.literal);
    });
  });

  nameList = this.RULE('nameList', () => {
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.MANY({
      GATE: () => this.LA(2).tokenType !== T.RParen,
      DEF: () => {
        this.CONSUME(T.Comma);
        this.CONSUME2(T.Identifier, { LABEL: 'name' });
      },
    });
    this.OPTION(() => this.CONSUME2(T.Comma));
  });

  // ---- types and literal defaults -------------------------------------------------------------------
  typeExpr = this.RULE('typeExpr', () => {
    this.SUBRULE(this.typeAtom);
    this.MANY(() => {
      this.CONSUME(T.Pipe);
      this.SUBRULE2(this.typeAtom);
    });
    this.OPTION(() => this.CONSUME(T.Question));
  });

  typeAtom = this.RULE('typeAtom', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.StringLit) },
      {
        ALT: () => {
          this.CONSUME(T.Identifier, { LABEL: 'name' });
          this.OPTION(() => {
            this.CONSUME(T.Less);
            this.SUBRULE(this.typeExpr);
            this.CONSUME(T.Greater);
          });
        },
      },
    ]);
  });

  literal = this.RULE('literal', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLit) },
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.CONSUME2(T.NumberLit);
        },
      },
      { ALT: () => this.CONSUME(T.StringLit) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.None) },
      { ALT: () => this.SUBRULE(this.listLiteral) },
      { ALT: () => this.SUBRULE(this.mapLiteral) },
    ]);
  });

  listLiteral = this.RULE('listLiteral', () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.literal);
      this.MANY({
        GATE: () => this.LA(2).tokenType !== T.RBracket,
        DEF: () => {
          this.CONSUME(T.Comma);
          this.SUBRULE2(this.literal);
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBracket);
  });

  mapLiteral = this.RULE('mapLiteral', () => {
    this.CONSUME(T.LCurly);
    this.OPTION(() => {
      this.SUBRULE(this.mapEntry);
      this.MANY({
        GATE: () => this.LA(2).tokenType !== T.RCurly,
        DEF: () => {
          this.CONSUME(T.Comma);
          this.SUBRULE2(this.mapEntry);
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  mapEntry = this.RULE('mapEntry', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Identifier, { LABEL: 'key' }) }, { ALT: () => this.CONSUME(T.StringLit, { LABEL: 'key' }) }]);
    this.CONSUME(T.Colon);
    this.SUBRULE(this.literal);
  });

  // ---- statements ---------------------------------------------------------------------------------------
  block = this.RULE('block', () => {
    this.CONSUME(T.LCurly);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.CONSUME(T.Newline) },
        { ALT: () => this.CONSUME(T.Semi) },
        { ALT: () => this.SUBRULE(this.statement) },
      ]),
    );
    this.CONSUME(T.RCurly);
  });

  statement = this.RULE('statement', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.letStmt) },
      { ALT: () => this.SUBRULE(this.ifStmt) },
      { ALT: () => this.SUBRULE(this.forStmt) },
      { ALT: () => this.SUBRULE(this.returnStmt) },
      { ALT: () => this.SUBRULE(this.assignStmt) },
      { ALT: () => this.SUBRULE(this.exprStmt) },
    ]);
    this.SUBRULE(this.statementEnd);
  });

  /** A statement ends at a newline, a `;`, or the `}` closing its block (left for the block to consume). */
  statementEnd = this.RULE('statementEnd', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Newline) },
      { ALT: () => this.CONSUME(T.Semi) },
      { GATE: () => this.LA(1).tokenType === T.RCurly, ALT: chevrotain.EMPTY_ALT() },
    ]);
  });

  letStmt = this.RULE('letStmt', () => {
    this.CONSUME(T.Let);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr);
  });

  assignStmt = this.RULE('assignStmt', () => {
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expr);
  });

  ifStmt = this.RULE('ifStmt', () => {
    this.CONSUME(T.If);
    this.SUBRULE(this.expr, { LABEL: 'cond' });
    this.SUBRULE(this.block, { LABEL: 'then' });
    this.OPTION(() => {
      this.CONSUME(T.Else);
      this.OR([{ ALT: () => this.SUBRULE(this.ifStmt, { LABEL: 'elseIf' }) }, { ALT: () => this.SUBRULE2(this.block, { LABEL: 'else' }) }]);
    });
  });

  forStmt = this.RULE('forStmt', () => {
    this.CONSUME(T.For);
    this.CONSUME(T.Identifier, { LABEL: 'var' });
    this.OPTION(() => {
      this.CONSUME(T.Comma);
      this.CONSUME2(T.Identifier, { LABEL: 'var' });
    });
    this.CONSUME(T.In);
    this.SUBRULE(this.expr);
    this.SUBRULE(this.block);
  });

  returnStmt = this.RULE('returnStmt', () => {
    this.CONSUME(T.Return);
    this.SUBRULE(this.expr);
  });

  exprStmt = this.RULE('exprStmt', () => {
    this.SUBRULE(this.expr);
  });

  // ---- expressions --------------------------------------------------------------------------------------
  /** Operators and operands stay a flat sequence here (a shallow CST is much cheaper to build); grammar/
   *  to-ast.ts applies precedence and associativity (grammar/precedence.ts). */
  expr = this.RULE('expr', () => {
    this.SUBRULE(this.operand);
    this.MANY(() => {
      this.OR(T.BINARY_OPERATORS.map((tok) => ({ ALT: () => this.CONSUME(tok, { LABEL: 'op' }) })));
      this.SUBRULE2(this.operand);
    });
    this.OPTION(() => {
      this.CONSUME(T.Question);
      this.SUBRULE(this.expr, { LABEL: 'then' });
      this.CONSUME(T.Colon);
      this.SUBRULE2(this.expr, { LABEL: 'else' });
    });
  });

  /** Prefix operators (`-`, `not`) then a postfix expression. */
  operand = this.RULE('operand', () => {
    this.MANY(() =>
      this.OR([{ ALT: () => this.CONSUME(T.Minus, { LABEL: 'prefix' }) }, { ALT: () => this.CONSUME(T.Not, { LABEL: 'prefix' }) }]),
    );
    this.SUBRULE(this.postfix);
  });

  postfix = this.RULE('postfix', () => {
    this.SUBRULE(this.primary);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.SUBRULE(this.callSuffix, { LABEL: 'suffix' }) },
        { ALT: () => this.SUBRULE(this.memberSuffix, { LABEL: 'suffix' }) },
        { ALT: () => this.SUBRULE(this.indexSuffix, { LABEL: 'suffix' }) },
      ]),
    );
  });

  callSuffix = this.RULE('callSuffix', () => {
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.argument);
      this.MANY({
        GATE: () => this.LA(2).tokenType !== T.RParen,
        DEF: () => {
          this.CONSUME(T.Comma);
          this.SUBRULE2(this.argument);
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RParen);
  });

  argument = this.RULE('argument', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Identifier, { LABEL: 'name' });
          this.CONSUME(T.Equals);
          this.SUBRULE(this.expr, { LABEL: 'value' });
        },
      },
      { ALT: () => this.SUBRULE2(this.expr, { LABEL: 'value' }) },
    ]);
  });

  memberSuffix = this.RULE('memberSuffix', () => {
    this.CONSUME(T.Dot);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
  });

  indexSuffix = this.RULE('indexSuffix', () => {
    this.CONSUME(T.LBracket);
    this.SUBRULE(this.expr);
    this.CONSUME(T.RBracket);
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLit) },
      { ALT: () => this.CONSUME(T.StringLit) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.None) },
      { ALT: () => this.CONSUME(T.Identifier) },
      { ALT: () => this.SUBRULE(this.parenExpr) },
      { ALT: () => this.SUBRULE(this.listExpr) },
    ]);
  });

  parenExpr = this.RULE('parenExpr', () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expr);
    this.CONSUME(T.RParen);
  });

  listExpr = this.RULE('listExpr', () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expr);
      this.MANY({
        GATE: () => this.LA(2).tokenType !== T.RBracket,
        DEF: () => {
          this.CONSUME(T.Comma);
          this.SUBRULE2(this.expr);
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBracket);
  });
}
