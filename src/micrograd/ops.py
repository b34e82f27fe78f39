"""What an op is: a name, a forward rule and a local-derivative rule, written once for every engine.

A rule is a Python function of `m`, a small math namespace, and the op's operands:

    forward(m, x)       -> the op's value               tanh: m.tanh(x)
    local(m, out, x)    -> d out / d operand, one each  tanh: (1 - out**2,)

Operands support `+ - * / **` and `m` supplies the few functions rules may call (`exp`, `log`,
`tanh`, `sin`, `recip`, `if_positive`, ...). Because nothing else is used, one rule runs on four
kinds of numbers, and every engine is an interpreter of the same rules:

- floats (`FLOAT_MATH`): eager `Value` ops compute `data` and store the local derivatives;
- NumPy arrays (`numpy_math()`): the NumPy tape and the pictures' grids;
- `Value`s (`engine.VALUE_MATH`): the derivatives become graphs themselves, so gradients can be
  differentiated again (`backward(create_graph=True)`, `grad`);
- `Sym`bols (`SYM_MATH`): each operation writes its own source text, which is how the tape (and
  the eager op itself, see `engine.Op`) gets straight-line code with the float operations of the
  rule, in the rule's order, so every engine computes the same bits.

Only the standard library is imported here; NumPy is imported when `numpy_math()` is first called.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from numbers import Real
from types import SimpleNamespace
from typing import Any

from micrograd.links import MANY

# ---- the float primitives (errors name the op, PyTorch's conventions at the edges) ----


def checked_exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: exp({x!r}) overflows a float") from None


def checked_log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log: input must be > 0, got {x!r} (log is undefined there)")
    return math.log(x)


def checked_sqrt(x: float) -> float:
    if x < 0.0:
        raise ValueError(f"sqrt: input must be >= 0, got {x!r} (sqrt is not real there)")
    return math.sqrt(x)


def checked_pow(x: float, p: float) -> float:
    """x ** p as a real float, or an error that names the op instead of a complex result."""
    try:
        out = x**p
    except ZeroDivisionError:
        raise ZeroDivisionError(f"pow: {x!r} ** {p!r} divides by zero") from None
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {p!r} overflows a float") from None
    if isinstance(out, complex):
        raise ValueError(
            f"pow: {x!r} ** {p!r} is not a real number (negative base, non-integer exponent)"
        )
    return out


def checked_gradient(gradient: Any, who: str) -> float:
    """The gradient `backward`/`grad` start from, checked alike for both: None means 1.0 (as
    PyTorch's for a scalar output); anything else must be one real number, since the output is
    one scalar. An array would give array gradients of a scalar graph, which PyTorch refuses
    too (grad_outputs must have the output's shape)."""
    if gradient is None:
        return 1.0
    if isinstance(gradient, bool) or not isinstance(gradient, Real):
        shape = getattr(gradient, "shape", None)
        got = type(gradient).__name__ + (f" of shape {shape}" if shape is not None else "")
        raise TypeError(f"{who}: gradient must be a real number (the output is one scalar), "
                        f"got {got}; pass a float such as 1.0, or call {who}() once per output "
                        "gradient")
    return float(gradient)


def pow_local(x: float, p: float) -> float:
    """d x^p / dx, with PyTorch's conventions where the formula breaks down."""
    if p == 0.0:
        return 0.0  # x**0 is constant, also at x = 0
    if x == 0.0 and p < 1.0:
        return math.inf  # the slope blows up at 0 for p < 1
    try:
        return p * x ** (p - 1)
    except OverflowError:  # a finite x^p whose slope is beyond float range, e.g. 1e-200 ** -1
        odd = float(p - 1).is_integer() and int(p - 1) % 2 == 1
        return math.copysign(math.inf, p) * (math.copysign(1.0, x) if odd else 1.0)


def pow_value_locals(a: float, b: float, out: float) -> tuple[float, float]:
    """(d a^b / da, d a^b / db) for out = a^b."""
    if a > 0.0:
        dlog = out * math.log(a)
    elif a == 0.0 and b >= 0.0:
        dlog = 0.0  # PyTorch's convention: the limit along a = 0
    else:
        dlog = math.nan  # a^b for a < 0 has no real derivative in b (PyTorch gives nan too)
    return pow_local(a, b), dlog


def relu(x: float) -> float:
    """max(0, x) on a float (nan stays nan, as the chapter's `0 if x < 0 else x`)."""
    return 0.0 if x < 0 else x


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x) on a float, without overflow for very negative x."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def recip(x: float) -> float:
    """1 / x, and ±inf at ±0 (IEEE's answer, PyTorch's too) instead of ZeroDivisionError."""
    return 1 / x if x != 0.0 else math.copysign(math.inf, x)


def pick_index(index: float, n: int) -> int:
    if not (math.isfinite(index) and index == int(index) and 0 <= index < n):
        raise ValueError(f"pick: index {index!r} is not an integer in 0..{n - 1}")
    return int(index)


def _pick(k: float, *values: float) -> float:
    return values[pick_index(k, len(values))]


FLOAT_MATH = SimpleNamespace(
    exp=checked_exp, log=checked_log, log1p=math.log1p, sqrt=checked_sqrt, tanh=math.tanh,
    sigmoid=sigmoid, sin=math.sin, cos=math.cos, abs=abs, relu=relu, recip=recip,
    pow=checked_pow, pow_slope=pow_local, pow_value_locals=pow_value_locals,
    max=lambda *xs: max(xs),  # also of one value (the softmax of a single class)
    pick=_pick, onehot=lambda k, i: 1.0 if int(k) == i else 0.0,
    if_positive=lambda x, then, otherwise: then if x > 0 else otherwise,
)
FLOAT_MATH.__doc__ = "The rules' functions on Python floats: what eager ops and the tape run."

_numpy_math: SimpleNamespace | None = None


def numpy_math() -> SimpleNamespace:
    """The rules' functions on NumPy arrays (one element per sample), built on first use."""
    global _numpy_math
    if _numpy_math is None:
        import numpy as np

        def np_sigmoid(z: Any) -> Any:  # both of the float formula's branches, no overflow
            e = np.exp(-np.abs(z))
            return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

        def pick(k: Any, *values: Any) -> Any:  # values[k[i]][i] for every sample i
            k = np.asarray(k).astype(np.intp)
            return np.stack(np.broadcast_arrays(*values))[k, np.arange(k.size)].reshape(k.shape)

        def pow_slope(x: Any, p: float) -> Any:
            return 0.0 if p == 0.0 else p * np.power(x, p - 1)

        def recip(x: Any) -> Any:
            with np.errstate(divide="ignore"):
                return 1.0 / x

        _numpy_math = SimpleNamespace(
            exp=np.exp, log=np.log, log1p=np.log1p, sqrt=np.sqrt, tanh=np.tanh,
            sigmoid=np_sigmoid, sin=np.sin, cos=np.cos, abs=np.abs,
            relu=lambda x: np.where(x < 0, 0.0, x), recip=recip, pow=np.power,
            pow_slope=pow_slope,
            pow_value_locals=lambda a, b, out: (b * np.power(a, b - 1), out * np.log(a)),
            max=lambda *xs: np.maximum.reduce(np.broadcast_arrays(*xs)), pick=pick,
            onehot=lambda k, i: (k == i).astype(np.float64),
            if_positive=lambda x, then, otherwise: np.where(x > 0, then, otherwise),
        )
    return _numpy_math


# ---- symbols: run a rule on names and get its source text ----


class Sym:
    """A named number whose arithmetic writes source text: `Sym("x") * 2` is `(x * 2)`.

    Every operation is parenthesised, so the text evaluates in exactly the rule's order; only a
    chain of `+`/`-` is left flat (`a + b + c` is `(a + b) + c` in Python too), so that a sum of
    many terms does not nest parentheses past the parser's limit.
    """

    __slots__ = ("text", "chain")

    def __init__(self, text: str, chain: bool = False):
        self.text = text  # with its outer parentheses, unless `chain`
        self.chain = chain  # a flat `x + y - z`: it needs parentheses except as a left operand

    def __str__(self) -> str:
        return self.text

    def _bin(self, op: str, other: Any, reflected: bool = False) -> Sym:
        left, right = (other, self) if reflected else (self, other)
        if op in "+-":
            a = left.text if isinstance(left, Sym) else text_of(left)  # a chain stays flat
            return Sym(f"{a} {op} {text_of(right)}", chain=True)
        return Sym(f"({text_of(left)} {op} {text_of(right)})")

    def __add__(self, o: Any) -> Sym: return self._bin("+", o)
    def __radd__(self, o: Any) -> Sym: return self._bin("+", o, True)
    def __sub__(self, o: Any) -> Sym: return self._bin("-", o)
    def __rsub__(self, o: Any) -> Sym: return self._bin("-", o, True)
    def __mul__(self, o: Any) -> Sym: return self._bin("*", o)
    def __rmul__(self, o: Any) -> Sym: return self._bin("*", o, True)
    def __truediv__(self, o: Any) -> Sym: return self._bin("/", o)
    def __rtruediv__(self, o: Any) -> Sym: return self._bin("/", o, True)
    def __pow__(self, o: Any) -> Sym: return self._bin("**", o)
    def __rpow__(self, o: Any) -> Sym: return self._bin("**", o, True)
    def __neg__(self) -> Sym: return Sym(f"(-{text_of(self)})")


def text_of(x: Any) -> str:
    """Source text of a symbol or a constant, safe as an operand (`(a + b)`, `1.0`, `(-0.5)`)."""
    if isinstance(x, Sym):
        return f"({x.text})" if x.chain else x.text
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


def _call(name: str) -> Callable[..., Sym]:
    return lambda *args: Sym(f"_{name}({', '.join(_top_text(a) for a in args)})")


class _SymMath(SimpleNamespace):
    """`m` for symbols: `m.tanh(x)` is the text `_tanh(x)`, a call of FLOAT_MATH's (or NumPy's)."""

    def __getattr__(self, name: str) -> Callable[..., Sym]:
        if name.startswith("__") or not hasattr(FLOAT_MATH, name):
            raise AttributeError(name)
        return _call(name)

    def pow_value_locals(self, a: Any, b: Any, out: Any) -> tuple[Sym, Sym]:
        call = _call("pow_value_locals")(a, b, out).text
        return Sym(f"{call}[0]"), Sym(f"{call}[1]")


SYM_MATH = _SymMath()


def namespace_for(math_ns: SimpleNamespace) -> dict[str, Any]:
    """Globals for generated code: `_tanh` -> math_ns.tanh, ..., plus `inf` and `nan`."""
    names = {f"_{k}": v for k, v in vars(math_ns).items() if not k.startswith("__")}
    return {**names, "inf": math.inf, "nan": math.nan}


def text_rule(rule: Callable[..., Any], *args: Any, operand: bool = False) -> Any:
    """Run `rule` on symbols: the source text (or a tuple of texts) it computes. The text is
    bare at the top (`b + w0 * x0`, for an assignment or a tuple item), or with `operand` safe to
    use inside a larger expression (`(1 - (o ** 2)) * g`)."""
    out = rule(SYM_MATH, *args)
    text = text_of if operand else _top_text
    if isinstance(out, (tuple, list)):
        return tuple(text(x) for x in out)
    return text(out)


def _top_text(x: Any) -> str:
    return x.text if isinstance(x, Sym) else text_of(x)


# ---- ops: a name and two rules; eager code generated from the rules ----

# the generated eager functions' globals: the float math, then the node type `use_value_type` gives
_EAGER_GLOBALS: dict[str, Any] = {**namespace_for(FLOAT_MATH), "_new": object.__new__,
                                   "_MANY": MANY}
REGISTERED: dict[str, Op] = {}  # the first op made under each name: what a pickle names
MAX_COMPILED_ARITY = 64  # wider ops (a sum over a whole batch) run their rules interpreted


def use_value_type(value_type: type, node: Callable[..., Any],
                   as_value: Callable[[Any], Any]) -> None:
    """Make eager ops build nodes of `value_type`: the engine calls this once, after defining it.

    The engine's node type is written with `Op`s (its methods are the ops' eager forms), so this
    module cannot import it; instead the engine hands over its three pieces, and the dependency
    runs one way, engine to ops. `node(data, parents, op, local)` makes an op's node from a
    float (the compiled ops write the same slots inline, a call less per op; a test holds
    the two alike), and `as_value(x)` wraps a number as a constant (None for anything else).
    The eager functions look these names up when they run, so the functions generated while
    the class body was being written (before this call) work as soon as it is made.
    """
    _EAGER_GLOBALS.update(Value=value_type, _node=node, _as_value=as_value)


class Op(str):
    """An op: the name a node's `_op` holds (so `node._op == "tanh"` still works), and its rules.

    `forward(m, *operands)` and `local(m, out, *operands)` are written as in this module's
    docstring. `op(a, b, ...)` applies it to Values (numbers are wrapped as constants); `eager(n)`
    is the function an op of n operands runs, generated once from the rules on symbols, so it does
    exactly the float operations of the rules, inline, with no interpretation per call.
    """

    forward: Callable[..., Any]
    local: Callable[..., Any]

    def __new__(cls, name: str, forward: Callable[..., Any], local: Callable[..., Any]) -> Op:
        op = super().__new__(cls, name)
        op.forward, op.local = forward, local
        op._compiled = {}
        op._check_at_definition()
        REGISTERED.setdefault(name, op)
        return op

    def __copy__(self) -> Op:
        return self

    def __deepcopy__(self, memo: dict) -> Op:
        return self  # an op is its rules: copied graphs share it (arraycode.py tells ops by `is`)

    def __reduce__(self) -> tuple:
        """Pickled by name when it is the op registered under its name (every built-in op), with
        its rules when pickle can store them (module-level functions), and if neither, as an op
        without rules: the loaded graph still backpropagates floats (its nodes keep their local
        derivatives), and what needs the rules (a tape, create_graph) says they were lost."""
        recipe = self.__dict__.get("recipe")  # an op a factory makes: `power(2.0)`
        if recipe is not None:
            return recipe
        rules: tuple = (self.forward, self.local)
        try:
            pickle.dumps(rules)
        except Exception:  # lambdas and closures: pickle refers to functions by name
            rules = ()
        if REGISTERED.get(str(self)) is self:
            return op_named, (str(self), *rules)
        return (Op, (str(self), *rules)) if rules else (_without_rules, (str(self),))

    def _check_at_definition(self) -> None:
        """Run `local` on symbols named after its parameters, when their number is fixed, so a
        rule that returns one derivative instead of a tuple fails where the op is written."""
        code = getattr(self.local, "__code__", None)
        if code is None or code.co_flags & 0x04 or code.co_argcount < 2:  # 0x04: *operands
            return
        names = code.co_varnames[2 : code.co_argcount]
        try:
            derivatives = self.local(SYM_MATH, Sym("out"), *map(Sym, names))
        except Exception:  # e.g. math.exp on a symbol: the first use reports what failed
            return
        self.check_local(derivatives, len(names))

    def check_local(self, derivatives: Any, n: int) -> Any:
        """`derivatives` if it is what a local rule returns, one per operand, else a TypeError
        that names the fix: `(2*x)` is one number in parentheses, `(2*x,)` a tuple of one."""
        if isinstance(derivatives, (tuple, list)) and len(derivatives) == n:
            return derivatives
        want = f"Op {str(self)!r}: local must return a tuple of {n} derivative(s), one per operand"
        if isinstance(derivatives, (tuple, list)):
            raise TypeError(f"{want}, got {len(derivatives)}")
        kind = "expression" if isinstance(derivatives, Sym) else type(derivatives).__name__
        raise TypeError(f"{want}, got one {kind}, {text_of(derivatives)}; parentheses alone make "
                        "no tuple: add a comma, e.g. `lambda m, out, x: (2*x,)`")

    def __call__(self, *operands: Any) -> Any:
        as_value = _EAGER_GLOBALS["_as_value"]
        values = []
        for x in operands:
            v = as_value(x)
            if v is None:
                raise TypeError(f"{self}: operands must be Values or real numbers, got "
                                f"{type(x).__name__} {x!r}")
            values.append(v)
        return self.eager(len(values))(*values)

    def eager(self, n: int, binary_method: bool = False) -> Callable[..., Any]:
        """The function that makes this op's node from n Values (cached per n).

        With `binary_method`, the second operand may be a number (wrapped) or a foreign type
        (`NotImplemented`), as Python's `__add__`-style methods need.
        """
        key = (n, binary_method)
        fn = self._compiled.get(key)
        if fn is None:
            fn = self._compile(n, binary_method) if n <= MAX_COMPILED_ARITY else self._interpret
            self._compiled[key] = fn
        return fn

    def _interpret(self, *parents: Any) -> Any:
        data = [p.data for p in parents]
        out = self.forward(FLOAT_MATH, *data)
        local = self.check_local(self.local(FLOAT_MATH, out, *data), len(parents))
        return _EAGER_GLOBALS["_node"](out, parents, self, tuple(local))

    def _compile(self, n: int, binary_method: bool) -> Callable[..., Any]:
        args = [Sym(f"a{i}") for i in range(n)]
        forward = text_rule(self.forward, *args)
        self.check_local(self.local(SYM_MATH, Sym("out"), *args), n)
        local = text_rule(self.local, Sym("out"), *args)
        params = ", ".join(f"p{i}" for i in range(n))
        lines = ["def make(OP):", f"    def apply({params}):"]
        if binary_method:
            lines += ["        if p1.__class__ is not Value:", "            p1 = _as_value(p1)",
                      "            if p1 is None:", "                return NotImplemented"]
        lines += [f"        a{i} = p{i}.data" for i in range(n)]
        # the node made here, as `_node` makes it (a call less per op: the engine's hot path)
        lines += [f"        out = {forward}", "        node = _new(Value)",
                  "        node.data = out", "        node.grad = 0.0",
                  *(f"        {line}" for line in _link_lines(n, local)),
                  "        node._op = OP", "        return node", "    return apply"]
        code = compile("\n".join(lines), f"<micrograd op {self}>", "exec")
        scope: dict[str, Any] = {}
        exec(code, _EAGER_GLOBALS, scope)
        return scope["make"](self)


def _link_lines(n: int, local: tuple[str, ...]) -> list[str]:
    """The lines storing n parents `p0..` and their locals on `node`, as `links.link` does."""
    if n == 1:
        return ["node._a = p0", "node._b = None", f"node._da = {local[0]}"]
    if n == 2:
        return ["node._a = p0", "node._b = p1", f"node._da = {local[0]}", f"node._db = {local[1]}"]
    params = "".join(f"p{i}, " for i in range(n))
    return [f"node._a = ({params})" if n else "node._a = None", "node._b = _MANY" if n else
            "node._b = None", f"node._da = ({''.join(f'{x}, ' for x in local)})"]


def op_named(name: str, *rules: Callable[..., Any]) -> Op:
    """The op registered as `name` in this process (how a pickle refers to one), else one made
    from the pickled rules, else one whose rules say they were lost."""
    op = REGISTERED.get(name)
    if op is not None:
        return op
    return Op(name, *rules) if rules else _without_rules(name)


def _without_rules(name: str) -> Op:
    op = str.__new__(Op, name)  # not registered: defining the real op later registers that one
    op.forward = op.local = _LostRules(name)
    op._compiled = {}
    op.recipe = (op_named, (name,))
    return op


class _LostRules:
    """The rules of an op loaded from a pickle that could not store them (lambdas)."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args: Any) -> Any:
        raise TypeError(f"op {self.name!r} was loaded from a pickle without its rules (pickle "
                        "cannot store lambdas): define the op before loading, or write its rules "
                        "as module-level functions; float backward() works without them")
