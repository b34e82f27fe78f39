"""The playground page's words in each language: the chapter's readers read it in Chinese.

The English text is the key, as the page writes it (whitespace runs read as one space): the page
is written in English, and a language that lacks a text shows it in English. `{name}` marks a
value the page fills in. The Chinese words are the chapter's (docs/glossary.md). Served as
`/static/strings.json` and written beside settings.json by `--export`; static/i18n.js reads it.
"""

from __future__ import annotations

import json
import re

from micrograd.graph import PICTURE_WORDS
from micrograd.playground.protocol import CLOSE_REASONS

LANGUAGES = {"en": "English", "zh": "中文"}

ZH = {
    # the header
    "micrograd playground": "micrograd 演练场",  # the page's title
    "playground": "演练场",
    "A scalar autograd engine, trained live. Every number below comes from": "一个标量自动微分引擎，实时训练。下面的每个数都来自",
    "Step": "步数",
    "offline": "离线",
    "Learning rate": "学习率",
    "Activation": "激活函数",
    "Weight decay": "权重衰减",
    "Batch size": "批大小",
    "Problem type": "问题类型",
    "Regularization": "正则化",
    "Reg. rate": "正则化率",
    "Speed": "速度",
    "graph": "计算图",
    "copy link": "复制链接",
    "link copied": "链接已复制",
    "Reset the weights (step 0)": "重置权重（回到第 0 步）",
    "reset": "重置",
    "Play / pause (space)": "运行 / 暂停（空格键）",
    "play": "运行",
    "One training step": "训练一步",
    "step": "单步",
    "The computation graph of the picked point, beside the plane (g)": "所选点的计算图，在平面旁边打开（g）",
    "Copy a link that restores every setting": "复制一个能恢复所有设置的链接",
    "Language": "语言",
    # the data panel
    "Data": "数据",
    "Which dataset?": "哪个数据集？",
    "Points": "点数",
    "Noise": "噪声",
    "Training share": "训练集比例",
    "Regenerate": "重新生成",
    "Clear": "清空",
    "New points (next seed)": "生成新的点（下一个随机种子）",
    "Remove every point, then click to add your own": "删除所有点，然后点击平面添加你自己的点",
    "Click the plane to add a point of class": "点击平面，添加一个这一类的点：",
    "Value": "值",
    "Click a point, then open its computation graph (": "点击一个点，然后打开它的计算图（顶部的",
    "at the top).": "）。",
    "points.": "个点。",
    # the network panel
    "hidden": "个隐藏层",  # "1 hidden layer": the count, this, then the word below
    "layer": "",
    "layers": "",
    "parameters": "个参数",
    "remove a hidden layer": "删除一个隐藏层",
    "add a hidden layer": "增加一个隐藏层",
    "One scale for every number:": "所有数值使用同一色标：",
    "+1. Tiles: each neuron's output over the plane (hover: its bias, and it fills the big plane);": "+1。小方块：每个神经元在平面上的输出（悬停：显示它的偏置，并铺满大平面）；",
    "the outputs: each class's probability, in its colour (": "输出：每一类的概率，用该类的颜色表示（",
    "the output: the predicted value": "输出：预测值",
    ". Lines: weights (hover: the value, click: change it). Inputs: click one to use it or not. Engine:": "。连线：权重（悬停：显示数值；点击：修改它）。输入：点击一个输入来启用或停用它。引擎：",
    # the network panel's columns and keys (network.js, legend.js)
    "input": "输入",
    "output": "输出",
    "{n} neuron": "{n} 个神经元",
    "{n} neurons": "{n} 个神经元",
    "remove a neuron from layer {i}": "从第 {i} 层删除一个神经元",
    "add a neuron to layer {i}": "给第 {i} 层增加一个神经元",
    "class {i}": "第 {i} 类",
    "train ({n})": "训练（{n}）",
    "test ({n})": "测试（{n}）",
    "test ({n}, hidden)": "测试（{n}，已隐藏）",
    "+1 prediction": "+1 预测值",
    # the walk (walkpanel.js)
    "step {k} of {n}": "第 {k} 步，共 {n} 步",
    # the output panel
    "Output": "输出",
    "Train loss": "训练损失",
    "Test loss": "测试损失",
    "Train acc": "训练准确率",
    "Test acc": "测试准确率",
    "Show test data": "显示测试数据",
    "Discretize output": "离散化输出",
    # the graph panel
    "Computation graph of one point": "一个点的计算图",
    "computation graph": "计算图",
    "fit": "适应",
    "zoom out": "缩小",
    "zoom in": "放大",
    "close the graph": "关闭计算图",
    "close (g)": "关闭（g）",
    "waiting for the server…": "正在等待服务器……",
    "Reading the graph": "怎样读这张图",
    "One point's forward pass through the network, op by op, as the engine records it. Each box holds a": "一个点经过网络的前向传播，按引擎记录的顺序逐个运算画出。每个方框是一个",
    ": its": "：它的",
    "data": "data（值）",
    "and, in red, its": "和红色的",
    "grad": "grad（梯度",
    "(d loss / d value, from": "，即 d 损失 / d 值，由",
    "). Orange boxes are the weights and biases the optimizer moves; blue ones are the point's coordinates.": "算出）。橙色方框是优化器要调整的权重和偏置；蓝色方框是这个点的坐标。",
    # the notes
    "Connecting to the model…": "正在连接模型……",
    "The connection to the server is closed. Is": "与服务器的连接已断开。",
    "still running?": "还在运行吗？",
    "Reconnect": "重新连接",
    "starting Python in this page\u2026": "正在此页面中启动 Python……",
    "the page's Python worker could not start: {why}": "页面的 Python 工作线程无法启动：{why}",
    "see the console": "请查看控制台",
    # the exported page's worker (worker.js)
    "starting Python ({n} MB downloaded)\u2026": "正在启动 Python（已下载 {n} MB）……",
    "loading Python: {got} of {total} MB downloaded\u2026": "正在加载 Python：已下载 {got} / {total} MB……",
    "loading Python: {got} MB downloaded\u2026": "正在加载 Python：已下载 {got} MB……",
    "importing micrograd\u2026": "正在导入 micrograd……",
    "starting Python\u2026": "正在启动 Python……",
    "Python could not start in this page: {why}": "Python 无法在此页面中启动：{why}",
    # the controls' labels (micrograd/settings.py's schema)
    "chapter": "本章数据",
    "yin-yang": "阴阳",
    "moons": "双月",
    "circles": "圆环",
    "spiral": "螺旋",
    "xor": "异或",
    "gaussian": "高斯",
    "plane": "平面",
    "gauss": "高斯峰",
    "Linear": "线性",
    "full": "全部",
    "classification": "分类",
    "regression": "回归",
    "none": "无",
    "1 step/s": "每秒 1 步",
    "5 steps/s": "每秒 5 步",
    "30 steps/s": "每秒 30 步",
    "100 steps/s": "每秒 100 步",
    "300 steps/s": "每秒 300 步",
    "max": "最快",
    # the controls, the network, the plane (controls.js, focus.js, network.js, weights.js)
    "Click the plane to add a point of value": "点击平面，按下面的值添加一个点：",
    "add points of class {i}": "添加第 {i} 类的点",
    "{name}: in use, click to remove": "{name}：使用中，点击移除",
    "{name}: click to use it": "{name}：点击使用它",
    "keep at least one input feature: switch another on first": "至少保留一个输入特征：请先打开另一个",
    "input {name}": "输入 {name}",
    "output: class {i} probability": "输出：第 {i} 类的概率",
    "output: class {i}": "输出：第 {i} 类",
    "output: the predicted value": "输出：预测值",
    "showing {name} (not in use)": "正在显示 {name}（未使用）",
    "showing {what}": "正在显示：{what}",
    "bias {b}": "偏置 {b}",
    "weight {w} (click to change)": "权重 {w}（点击修改）",
    "weight": "权重",
    # the output panel (frames.js, curve.js)
    "data loss; the regularization penalty adds {n}": "数据损失；正则化惩罚另加 {n}",
    "loss curves appear when training starts": "开始训练后，这里会出现损失曲线",
    "step {k}": "第 {k} 步",
    "\u2014 train": "\u2014 训练",
    "\u2014 test": "\u2014 测试",
    "log scale": "对数刻度",
    # the graph panel (graph.js; its notes come from playground/graphview.py)
    "value {v}": "目标值 {v}",
    " \u00b7 its loss {v}": " \u00b7 损失 {v}",
    "train point #{i} ({x}, {y}), {label}{loss}": "训练点 #{i}（{x}, {y}）\u00b7 {label}{loss}",
    "test point #{i} ({x}, {y}), {label}{loss}": "测试点 #{i}（{x}, {y}）\u00b7 {label}{loss}",
    "{n} values": "{n} 个值",
    "no points: add one to see its graph": "没有点：添加一个点来查看它的计算图",
    "the whole graph has {n} values, too many to read (at most {most} are drawn): showing the "
    "output layer and the loss; the last hidden layer's outputs enter as inputs":
        "整个计算图有 {n} 个值，多得无法阅读（最多画 {most} 个）：这里只画输出层和损失，"
        "最后一个隐藏层的输出当作输入",
    "the model has diverged: lower the learning rate and press reset": "模型已发散：请降低学习率，然后按“重置”",
    "this point's graph cannot be computed; {fix}": "无法计算这个点的计算图；{fix}",
    "this point's graph cannot be computed: {bad}; {fix}": "无法计算这个点的计算图：{bad}；{fix}",
    "this point's graph cannot be computed (its forward pass overflows); {fix}":
        "无法计算这个点的计算图（它的前向传播溢出了）；{fix}",
    "this point's loss is infinite in floating point: logit{k} is {gap} below the largest logit, "
    "so p{k} = exp(logit{k} \u2212 max) / \u03a3 exp underflows to 0 and \u2212log p{k} has no value; {fix}":
        "这个点的损失在浮点数中是无穷大：logit{k} 比最大的 logit 小 {gap}，所以 "
        "p{k} = exp(logit{k} \u2212 max) / \u03a3 exp 下溢为 0，\u2212log p{k} 没有值；{fix}",
    "Graphviz's dot failed: {why}": "Graphviz 的 dot 出错了：{why}",
    "Graphviz's `dot` program was not found, so the graph cannot be drawn; to see it, {how}, then "
    "restart the playground": "找不到 Graphviz 的 `dot` 程序，所以无法绘制计算图；要看到它，请{how}，然后重新启动演练场",
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install graphviz)": "安装 Graphviz（Debian/Ubuntu：apt-get install graphviz；"
        "macOS：brew install graphviz；conda：conda install graphviz）",
    # the pictures' words (micrograd/graph.py: the legend, the frames around a neuron or the loss)
    "parameter": "参数",
    "constant": "常数",
    "intermediate": "中间值",
    "loss / output": "损失 / 输出",
    "op (\u00d7, +, tanh, exp, log, ...)": "运算（\u00d7、+、tanh、exp、log……）",
    "layer {i}, neuron {j}": "第 {i} 层 \u00b7 神经元 {j}",  # short: a folded box holds it
    "output neuron {j}": "输出层 \u00b7 神经元 {j}",
    "softmax cross-entropy, label {k}": "softmax 交叉熵，标签 {k}",
    "{loss}: the chapter's form (exp, \u03a3, \u00f7, log); training computes the same loss as "
    "log \u03a3 exp \u2212 logit": "{loss}：本章的写法（exp、\u03a3、\u00f7、log）；训练时用 "
        "log \u03a3 exp \u2212 logit 算出同样的损失",
    "squared error (out \u2212 y)\u00b2, y the point's target": "平方误差 (out \u2212 y)\u00b2，y 是这个点的目标值",
    # the walk (walkpanel.js; the steps' sentences come from micrograd/walk.py)
    "Backpropagation, step by step": "反向传播，逐步演示",  # the walk's own page (walk.py)
    "\u21e4 start": "\u21e4 开头",
    'Press "step" (or \u2192) to walk the forward pass, then backpropagation edge by edge.':
        "按“下一步”（或 \u2192），先走一遍前向传播，再逐条边反向传播。",
    "step through backprop": "逐步演示",
    "Walk this graph's forward pass, then backprop edge by edge (training pauses)":
        "先逐个节点走一遍这张图的前向传播，再逐条边反向传播（训练会暂停）",
    "leave the walk": "结束演示",
    "\u25c0 back": "\u25c0 上一步",
    "\u25b6 play": "\u25b6 播放",
    "\u23f8 pause": "\u23f8 暂停",
    "step \u25b6": "下一步 \u25b6",
    "backward \u21e5": "反向 \u21e5",
    "focus": "聚焦",
    "overview": "总览",
    "back to the start": "回到开头",
    "one step back (\u2190)": "后退一步（\u2190）",
    "play the walk": "自动播放逐步演示",
    "one step (\u2192)": "前进一步（\u2192）",
    "skip to the start of the backward pass": "跳到反向传播的开头",
    "the current neuron: its values, what goes in and out": "当前的神经元：它的值，以及进出它的值",
    "the whole model, the other neurons folded": "整个模型，其他神经元折叠起来",
    "Training is paused while you walk: the walk uses the weights of now. Play leaves the walk; "
    "one training step restarts it on the new weights. Keys: \u2190 \u2192. Focus shows the neuron "
    "being computed; overview the whole model, other neurons folded.":
        "逐步演示时训练暂停：演示用的是此刻的权重。按“运行”会离开演示；训练一步会用新的权重重新开始演示。"
        "按键：\u2190 \u2192。“聚焦”显示正在计算的神经元；“总览”显示整个模型，其他神经元折叠起来。",
    "computing the walk\u2026": "正在计算逐步演示……",
    "no walk": "没有逐步演示",
    "walk: the pictures cannot be drawn without Graphviz": "逐步演示：没有 Graphviz 就画不出图",
    "{nf} forward steps, then {nb} of backprop": "{nf} 步前向传播，然后 {nb} 步反向传播",
    "Press step (\u2192) to compute the graph's values one node at a time.":
        "按“下一步”（\u2192），逐个节点计算图中的值。",
    "forward pass: node {k} of {n}": "前向传播：第 {k} 个节点，共 {n} 个",
    "backward pass: the output starts with grad 1": "反向传播：输出的梯度从 1 开始",
    "backward pass: contribution {k} to a reused value": "反向传播：一个被多次使用的值收到第 {k} 份贡献",
    "backward pass: the chain rule": "反向传播：链式法则",
    "done: every grad is now backward()'s": "完成：现在每个 grad 都和 backward() 算出的一样",
    "{name}.grad = 1: the output's derivative with respect to itself": "{name}.grad = 1：输出对自身的导数就是 1",
    "{rule}, contribution {nth} of {uses} ({parent} is used {uses} times): {product}; "
    "{name}.grad is now {total}":
        "{rule}，第 {nth} 份贡献，共 {uses} 份（{parent} 被使用了 {uses} 次）：{product}；"
        "{name}.grad 现在是 {total}",
    "this graph has {n} values, too many to walk (at most {most}); use fewer or narrower layers":
        "这个计算图有 {n} 个值，多得无法逐步演示（最多 {most} 个）；请用更少或更窄的层",
    "the graph's numbers are not finite; lower the learning rate and press reset":
        "计算图中的数不是有限值；请降低学习率，然后按“重置”",
    "there is no point to walk: click a point on the plane first": "没有可以演示的点：请先点击平面上的一个点",
    "walk: {why}": "逐步演示：{why}",
    # the share link's problems (link.js)
    "link: {problems}": "链接：{problems}",
    "setting \"{key}\" ignored (a broken %-escape)": "已忽略设置“{key}”（%-转义已损坏）",
    "unknown setting \"{key}\" ignored": "已忽略未知的设置“{key}”",
    "{key}={value} is not readable (a broken %-escape), using the default":
        "{key}={value} 无法读取（%-转义已损坏），改用默认值",
    "{key}={value} is not {what}, using the default": "{key}={value} 无效（应为 {what}），改用默认值",
    "; ": "；",  # between two sentences of one line
    ".": "。",  # the full stop after a name or a code (the engine's, micrograd.engine.Value)
    ")": "）",  # after the class colours in the network's key
    "dataset={d} is for {kind}, using {used}": "dataset={d} 用于{kind}，改用 {used}",
    "a list of distinct names from {names}": "由 {names} 中互不相同的名字组成的列表",
    "{a} to {b} layer sizes of {lo}..{hi}": "{a} 到 {b} 个层宽，每个在 {lo}..{hi} 之间",
    "one of {names}": "{names} 之一",
    "a number in {range}": "{range} 中的数",
    "an integer in {lo}..{hi}": "{lo}..{hi} 中的整数",
    "1 or 0": "1 或 0",
    # a number the model refuses (settings.number_problem, playground/protocol.py)
    "{name} {problem}": "{name} {problem}",
    "must be a number, got {got}": "必须是一个数，收到的是 {got}",
    "must be an integer, got {got}": "必须是整数，收到的是 {got}",
    "must be a finite number, got {got}": "必须是有限的数，收到的是 {got}",
    "must be in {lo}..{hi}, got {got}": "必须在 {lo}..{hi} 之间，收到的是 {got}",
    "must be in {range}, got {got}": "必须在 {range} 之内，收到的是 {got}",
    "more than {n} messages are waiting; {kind} was dropped": "有超过 {n} 条消息在等待；{kind} 被丢弃了",
    # why the server closed the connection (playground/protocol.py)
    "cross-origin connections are refused": "拒绝跨站连接",
    "the playground is full: {n} connections are open; try again later":
        "演练场已满：已经有 {n} 个连接；请稍后再试",
    # the model's refusals (playground/session.py, driver.py, browser.py)
    "the loss became {loss} at step {step}; lower the learning rate and press reset":
        "损失在第 {step} 步变成了 {loss}；请降低学习率，然后按“重置”",
    "the loss is not finite; lower the learning rate and press reset":
        "损失不是有限值；请降低学习率，然后按“重置”",
    "the update made a weight {w} at step {step}; lower the learning rate or the weight decay and "
    "press reset": "第 {step} 步的更新让一个权重变成了 {w}；请降低学习率或权重衰减，然后按“重置”",
    "the plane holds at most {n} points; clear it first": "平面上最多放 {n} 个点；请先清空",
    "there are no training points; add some or regenerate the data": "没有训练点；请添加一些点，或者重新生成数据",
    "internal error while handling {kind}; {hint}": "处理 {kind} 时出现内部错误；{hint}",
    "internal error while training; {hint}": "训练时出现内部错误；{hint}",
    "see the server log": "请查看服务器日志",
    "see the browser's console": "请查看浏览器的控制台",
    "see the notebook's log": "请查看笔记本的日志",
    # a notebook's own model and points (micrograd.widgets.Playground(model=, data=))
    "Your notebook's model and points": "你在笔记本里给的模型和数据点",
    "Your notebook's model": "你在笔记本里给的模型",
    "Your notebook's points": "你在笔记本里给的数据点",
    "Your points": "你的数据点",
    "Your notebook's points again": "重新放回你在笔记本里给的数据点",
    "your notebook's model fixes its inputs": "输入特征由你在笔记本里给的模型决定",
    "{name} is your notebook's to set: the model or points you gave fix it":
        "{name} 由你在笔记本里给的模型或数据点决定，这里不能改",
    "{dataset} does not fit your notebook's model: it has {n} outputs":
        "{dataset} 不适合你在笔记本里给的模型：它有 {n} 个输出",
}

# each language's catalogue, by its code (English: the texts as they are)
CATALOGUES: dict[str, dict[str, str]] = {"en": {}, "zh": ZH}

# Texts that read the same in every language: names (of the package, of functions), formulas.
SAME = {"micrograd", "Tanh", "ReLU", "Sigmoid", "SiLU", "L1", "L2"}


def strings_json() -> str:
    """The page's view: {"languages": {code: name}, "found": [...], code: {english:
    translation}, ...}. `found` are the templates of texts the page gets without their sentence
    (a picture's words in the SVG, a socket's close reason), the most specific first: i18n.js
    matches only these, so a value's name that happens to be a word of the page stays as it is."""
    found = sorted((*PICTURE_WORDS, *CLOSE_REASONS),
                   key=lambda text: -len(re.sub(r"\{\w+\}", "", text)))
    return json.dumps({"languages": LANGUAGES, "found": found, "zh": ZH},
                      ensure_ascii=False, indent=1)
