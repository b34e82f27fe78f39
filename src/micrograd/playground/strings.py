"""The playground page's words in each language: the chapter's readers read it in Chinese.

The English text is the key, as the page writes it (whitespace runs read as one space): the page
is written in English, and a language that lacks a text shows it in English. `{name}` marks a
value the page fills in. The Chinese words are the chapter's (docs/glossary.md). Served as
`/static/strings.json` and written beside settings.json by `--export`; static/i18n.js reads it.
"""

from __future__ import annotations

import json

LANGUAGES = {"en": "English", "zh": "中文"}

ZH = {
    # the header
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
    "One scale for every number:": "所有数用同一个色标：",
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
    "grad": "grad（梯度）",
    "(d loss / d value, from": "（d 损失 / d 值，来自",
    "). Orange boxes are the weights and biases the optimizer moves; blue ones are the point's coordinates.": "）。橙色方框是优化器要调整的权重和偏置；蓝色方框是这个点的坐标。",
    # the notes
    "Connecting to the model…": "正在连接模型……",
    "The connection to the server is closed. Is": "与服务器的连接已断开。",
    "still running?": "还在运行吗？",
    "Reconnect": "重新连接",
}


def strings_json() -> str:
    """The page's view: {"languages": {code: name}, code: {english: translation}, ...}."""
    return json.dumps({"languages": LANGUAGES, "zh": ZH}, ensure_ascii=False, indent=1)
