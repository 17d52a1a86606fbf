#!/usr/bin/env python3
"""Peer baseline for the bench workloads that /work/shared/bench/pytorch_peer.py lacks, in PyTorch on CPU.

Same command line and output as pytorch_peer.py: one JSON line per workload,
{"workload", "threads", "batch", "iters_per_s", "images_per_s"}, from the median iteration after
warm-up, images/s = batch / median iteration (an iteration is one generator update and the
critic updates before it). GanForge.Bench --compare sends these workloads here.
Needs Debian's python3-torch: run it with /usr/bin/python3.
Usage: /usr/bin/python3 bench/peer_zoo.py [--threads N] [--iters N] [--warmup N] [--workloads wgangp28]

Workloads:
  wgangp28  WGAN-GP (Gulrajani et al. 2017) on dcgan28's networks, the critic without BatchNorm (so its
            second conv has a bias); batch 64; 5 critic updates (Wasserstein loss + gradient penalty
            lambda 10 through a double backward) and one generator update, Adam 1e-4 (0, 0.9).
  cyclegan32  CycleGAN (Zhu et al. 2017) on 3 x 32 x 32 images, batch 4: two ResNet generators (c7s1-64, d128,
            d256, 6 residual blocks, u128, u64, c7s1-3; reflection padding, instance norm), two PatchGANs
            (C64 stride 2, C128 stride 1, a 1-channel conv; instance norm), least squares; per iteration the
            generators' update (adversarial + 10 cycle + 5 identity, both D frozen) then both D's (on fakes
            from pools of 50), Adam 2e-4 (0.5, 0.999). GanForge's zoo model at its defaults for 32 px.
  stylegan32  the `stylegan` variant at 32 pixels with its defaults (mapping 4 x 128 at lr x 0.01, modulated convs
            with demodulation, noise inputs, toRGB skips, style mixing 0.9; residual D with mbstd 4), batch 32:
            a D update (non-saturating), lazy R1 (gamma 0.01) every 16 iterations, a G update; Adam 0.0025 (0, 0.99).
  transgan32  the `transgan` variant at 32 pixels with its defaults (G: z 100 -> 8 x 8 tokens of 64, 2 pre-norm
            blocks, pixel shuffle to 16 x 16 x 16 and 1 block, to 32 x 32 x 4 and 1 block in 8 x 8 windows, a linear
            to 1 channel and tanh; D: 4 x 4 patches to 64 wide, a class token, 2 blocks, LayerNorm, a linear head),
            batch 32: DiffAugment (translation, cutout, color) on every image D sees, a D update (Wasserstein + gradient
            penalty 10 through a double backward + drift 0.001 E[D(x)^2]) and a G update; Adam 1e-4 (0, 0.99).
  sngan28   SNGAN (Miyato et al. 2018) on wgangp28's networks, spectral norm (one power iteration a training forward) on
            every critic layer; batch 64; one D update (hinge loss) and one G update (-E[D(G(z))]), Adam 2e-4 (0.5, 0.999).
  pix2pix32  pix2pix (Isola et al. 2017) on pairs of 3 x 32 x 32 images, batch 16: the U-Net of depth 5 (C64-C128-C256-
            C512-C512, dropout 0.5 in the three innermost decoder layers), the PatchGAN with one strided layer on (A, B)
            joined (batch norm); a D update (BCE, halved) on (A, B) and (A, G(A)), then a G update (BCE + 100 L1, D
            frozen); Adam 2e-4 (0.5, 0.999).
  srgan32   SRGAN (Ledig et al. 2017) from 3 x 8 x 8 to 3 x 32 x 32 (x4), batch 16: SRResNet (16 residual blocks of 64,
            PReLU, two pixel shuffles), the strided-conv D (8 convs to 512 maps, dense 1024, dense 1); a D update (BCE)
            on HR and G(LR), then a G update: MSE on the content network's maps (GanForge's built-in evaluator's first
            two conv-BN-ReLU blocks, eval mode, frozen) + 1e-3 BCE (D frozen); Adam 1e-4 (0.9, 0.999).
To add one: write a function that builds the networks and optimizers and
returns (batch, step), where step() runs one iteration, and register it in WORKLOADS.
"""
import argparse, json, os, sys, time
import torch
import torch.nn as nn

# The image-to-image networks are written once, in the fixture script that checks GanForge's against them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "fixtures"))
from image_to_image import ResnetGenerator, SrResNet, UNet, patch_gan as paired_patch_gan  # noqa: E402


def dcgan_init(net):
    """DCGAN's weights_init: conv and linear weights N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return net


def generator28(nz=100):
    """dcgan28's G: z (nz) -> (1, 28, 28)."""
    return dcgan_init(nn.Sequential(
        nn.Linear(nz, 128 * 7 * 7, bias=False), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (128, 7, 7)),                                      # state: 128 x 7 x 7
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),  # 64 x 14 x 14
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh()))                    # 1 x 28 x 28


def critic28():
    """dcgan28's D without BatchNorm: (1, 28, 28) -> (1) score; the second conv keeps its bias."""
    return dcgan_init(nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),                      # 64 x 14 x 14
        nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2),                    # 128 x 7 x 7
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1)))


def gradient_penalty(d, real, fake, eps, lam=10.0):
    """lam * mean((||grad_xhat D(xhat)||_2 - 1)^2) with xhat = eps*real + (1-eps)*fake, eps (N) per sample.

    The input gradient is recorded (create_graph=True), so backpropagating the penalty reaches the
    critic's weights through a double backward. Returns the penalty and the per-sample norms.
    """
    e = eps.view(-1, *([1] * (real.dim() - 1)))
    x_hat = (e * real.detach() + (1 - e) * fake.detach()).requires_grad_(True)
    grad, = torch.autograd.grad(d(x_hat).sum(), x_hat, create_graph=True)
    norm = grad.flatten(1).norm(2, dim=1)
    return lam * ((norm - 1) ** 2).mean(), norm


def critic_loss(d, real, fake, eps, lam=10.0):
    """WGAN-GP's critic loss: mean D(G(z)) - mean D(x) + the gradient penalty. Returns (loss, gp, norms)."""
    gp, norm = gradient_penalty(d, real, fake, eps, lam)
    return d(fake).mean() - d(real).mean() + gp, gp, norm


def wgangp28(n_critic=5):
    nz, batch = 100, 64
    g, d = generator28(nz), critic28()
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.0, 0.9))
    real = torch.rand(batch, 1, 28, 28) * 2 - 1

    def step():
        # n_critic critic updates: G(z) without a graph, Wasserstein loss + gradient penalty.
        for _ in range(n_critic):
            d.zero_grad(set_to_none=True)
            with torch.no_grad():
                fake = g(torch.randn(batch, nz))
            loss_d, _, _ = critic_loss(d, real, fake, torch.rand(batch))
            loss_d.backward()
            opt_d.step()
        # One generator update through the frozen critic (no weight gradients for D, as GanForge's trainer).
        g.zero_grad(set_to_none=True)
        d.requires_grad_(False)
        loss_g = -d(g(torch.randn(batch, nz))).mean()
        loss_g.backward()
        d.requires_grad_(True)
        opt_g.step()

    return batch, step


def resnet_generator(c_in, c_out, ngf=64, blocks=6):
    """CycleGAN's generator for 32 px (the fixtures' network): conv biases on (instance norm has no affine), weights N(0, 0.02)."""
    return dcgan_init(ResnetGenerator(c_in, c_out, ngf, blocks))


def patch_gan(c_in, ndf=64):
    """The PatchGAN with one strided layer (GanForge's choice below 48 px), instance norm."""
    return dcgan_init(nn.Sequential(
        nn.Conv2d(c_in, ndf, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(ndf, ndf * 2, 4, 1, 1), nn.InstanceNorm2d(ndf * 2), nn.LeakyReLU(0.2),
        nn.Conv2d(ndf * 2, 1, 4, 1, 1)))


class ImagePool:
    """CycleGAN's history of 50 fakes: fill, then half the time swap a stored image in."""
    def __init__(self, size=50):
        self.size, self.images = size, []

    def query(self, images):
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif torch.rand(1).item() > 0.5:
                j = torch.randint(0, self.size, (1,)).item()
                out.append(self.images[j].clone())
                self.images[j] = image
            else:
                out.append(image)
        return torch.cat(out, 0)


def cyclegan32():
    batch = 4
    g, f = resnet_generator(3, 3), resnet_generator(3, 3)
    d_b, d_a = patch_gan(3), patch_gan(3)
    opt_g = torch.optim.Adam(list(g.parameters()) + list(f.parameters()), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(list(d_b.parameters()) + list(d_a.parameters()), lr=2e-4, betas=(0.5, 0.999))
    pool_a, pool_b = ImagePool(), ImagePool()
    real_a = torch.rand(batch, 3, 32, 32) * 2 - 1
    real_b = torch.rand(batch, 3, 32, 32) * 2 - 1
    mse, l1 = nn.MSELoss(), nn.L1Loss()

    def step():
        for d in (d_a, d_b):
            d.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        fake_b, fake_a = g(real_a), f(real_b)
        ones_b, ones_a = d_b(fake_b), d_a(fake_a)
        loss = mse(ones_b, torch.ones_like(ones_b)) + mse(ones_a, torch.ones_like(ones_a))
        loss = loss + 10 * (l1(f(fake_b), real_a) + l1(g(fake_a), real_b))
        loss = loss + 5 * (l1(g(real_b), real_b) + l1(f(real_a), real_a))
        loss.backward()
        opt_g.step()
        for d in (d_a, d_b):
            d.requires_grad_(True)
        opt_d.zero_grad(set_to_none=True)
        loss_d = 0
        for d, real, fake in ((d_b, real_b, pool_b.query(fake_b)), (d_a, real_a, pool_a.query(fake_a))):
            r, fk = d(real), d(fake)
            loss_d = loss_d + 0.5 * (mse(r, torch.ones_like(r)) + mse(fk, torch.zeros_like(fk)))
        loss_d.backward()
        opt_d.step()

    return batch, step


# ---- stylegan32: the `stylegan` variant at 32 pixels (its defaults), written after stylegan2-ada's networks ----

SQRT2 = 2 ** 0.5


def act(x):
    return nn.functional.leaky_relu(x, 0.2) * SQRT2


class EqualLinear(nn.Module):
    def __init__(self, i, o, bias_init=0.0, lr_mul=1.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(o, i) / lr_mul)
        self.bias = nn.Parameter(torch.full([o], float(bias_init) / lr_mul))
        self.gain, self.lr_mul = lr_mul / i ** 0.5, lr_mul

    def forward(self, x):
        return nn.functional.linear(x, self.weight * self.gain, self.bias * self.lr_mul)


class EqualConv(nn.Module):
    def __init__(self, i, o, k, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(o, i, k, k))
        self.bias = nn.Parameter(torch.zeros(o)) if bias else None
        self.gain, self.pad = 1 / (i * k * k) ** 0.5, k // 2

    def forward(self, x):
        return nn.functional.conv2d(x, self.weight * self.gain, self.bias, padding=self.pad)


class ModConv(nn.Module):
    """Modulated conv, stylegan2-ada's non-fused path: scale the input, convolve, scale the output."""
    def __init__(self, i, o, k, w_dim, demod=True):
        super().__init__()
        self.affine = EqualLinear(w_dim, i, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(o, i, k, k))
        self.demod, self.k = demod, k

    def forward(self, x, w):
        n, c = x.shape[:2]
        s = self.affine(w)
        if not self.demod:
            s = s / (c * self.k * self.k) ** 0.5
        y = nn.functional.conv2d(x * s.reshape(n, c, 1, 1), self.weight, padding=self.k // 2)
        if self.demod:
            d = (s.square() @ self.weight.square().sum(dim=[2, 3]).t() + 1e-8).rsqrt()
            y = y * d.reshape(n, -1, 1, 1)
        return y


class StyleLayer(nn.Module):
    def __init__(self, i, o, w_dim):
        super().__init__()
        self.conv = ModConv(i, o, 3, w_dim)
        self.strength = nn.Parameter(torch.zeros(o))
        self.bias = nn.Parameter(torch.zeros(o))

    def forward(self, x, w, noise):
        x = self.conv(x, w) + self.strength.reshape(1, -1, 1, 1) * noise
        return act(x + self.bias.reshape(1, -1, 1, 1))


class ToRgb(nn.Module):
    def __init__(self, i, c, w_dim):
        super().__init__()
        self.conv = ModConv(i, c, 1, w_dim, demod=False)
        self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x, w):
        return self.conv(x, w) + self.bias.reshape(1, -1, 1, 1)


def style_width(r, w=64):
    return max(min(2 * w, w * 32 // r), min(16, w))


class StyleG(nn.Module):
    def __init__(self, nz=100, w_dim=128, size=32, channels=1, mapping=4, mixing=0.9):
        super().__init__()
        layers = []
        for i in range(mapping):
            layers.append(EqualLinear(nz if i == 0 else w_dim, w_dim, lr_mul=0.01))
        self.mapping = nn.ModuleList(layers)
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.const = nn.Parameter(torch.randn(style_width(4), 4, 4))
        self.blocks, self.res = nn.ModuleList(), []
        r = 4
        while r <= size:
            c = style_width(r)
            self.blocks.append(nn.ModuleList([StyleLayer(style_width(r // 2), c, w_dim) if r > 4 else nn.Identity(),
                                              StyleLayer(c, c, w_dim), ToRgb(c, channels, w_dim)]))
            self.res.append(r)
            r *= 2
        self.num_ws, self.nz, self.mixing = 2 * len(self.blocks), nz, mixing

    def map(self, z):
        x = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
        for l in self.mapping:
            x = act(l(x))
        return x

    def forward(self, z):
        n = z.shape[0]
        w = self.map(z)
        self.w_avg.copy_(w.detach().mean(0).lerp(self.w_avg, 0.995))
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        cut = torch.where(torch.rand(n) < self.mixing, torch.randint(1, self.num_ws, (n,)), torch.full((n,), self.num_ws))
        keep = (torch.arange(self.num_ws).unsqueeze(0) < cut.unsqueeze(1)).float().unsqueeze(2)
        ws = ws * keep + self.map(torch.randn(n, self.nz)).unsqueeze(1) * (1 - keep)
        x, img, wi = self.const.unsqueeze(0).expand(n, -1, -1, -1), None, 0
        for (conv0, conv1, torgb), r in zip(self.blocks, self.res):
            if r > 4:
                x = nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
                x = conv0(x, ws[:, wi], torch.randn(n, 1, r, r)); wi += 1
            x = conv1(x, ws[:, wi], torch.randn(n, 1, r, r)); wi += 1
            rgb = torgb(x, ws[:, wi])
            img = rgb if img is None else nn.functional.interpolate(img, scale_factor=2, mode="bilinear", align_corners=False) + rgb
        return img


def minibatch_std(x, group=4):
    n, c, h, w = x.shape
    g = min(group, n)
    y = x.reshape(g, -1, c, h, w)
    y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt().mean(dim=[1, 2, 3])
    return torch.cat([x, y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)], 1)


class StyleD(nn.Module):
    def __init__(self, size=32, channels=1):
        super().__init__()
        self.fromrgb = EqualConv(channels, style_width(size), 1)
        self.blocks = nn.ModuleList()
        r = size
        while r > 4:
            c, nxt = style_width(r), style_width(r // 2)
            self.blocks.append(nn.ModuleList([EqualConv(c, c, 3), EqualConv(c, nxt, 3), EqualConv(c, nxt, 1, bias=False)]))
            r //= 2
        c4 = style_width(4)
        self.conv, self.fc1, self.fc2 = EqualConv(c4 + 1, c4, 3), EqualLinear(c4 * 16, c4), EqualLinear(c4, 1)

    def forward(self, x):
        x = act(self.fromrgb(x))
        for c0, c1, skip in self.blocks:
            main = nn.functional.avg_pool2d(act(c1(act(c0(x)))), 2)
            x = (main + skip(nn.functional.avg_pool2d(x, 2))) * 0.5 ** 0.5
        x = act(self.conv(minibatch_std(x)))
        return self.fc2(act(self.fc1(x.flatten(1))))


def stylegan32(r1_every=16, gamma=0.01):
    nz, batch = 100, 32
    g, d = StyleG(nz), StyleD()
    c = r1_every / (r1_every + 1)   # lazy regularisation's correction of D's lr and betas
    opt_g = torch.optim.Adam(g.parameters(), lr=0.0025, betas=(0.0, 0.99))
    opt_d = torch.optim.Adam(d.parameters(), lr=0.0025 * c, betas=(0.0, 0.99 ** c))
    real = torch.rand(batch, 1, 32, 32) * 2 - 1
    sp = nn.functional.softplus
    count = [0]

    def step():
        d.zero_grad(set_to_none=True)
        with torch.no_grad():
            fake = g(torch.randn(batch, nz))
        (sp(-d(real)).mean() + sp(d(fake)).mean()).backward()      # non-saturating D loss
        opt_d.step()
        if count[0] % r1_every == 0:                                # lazy R1: gamma/2 E||grad D(x)||^2, times k
            d.zero_grad(set_to_none=True)
            x = real.detach().requires_grad_(True)
            grad, = torch.autograd.grad(d(x).sum(), x, create_graph=True)
            (grad.square().sum(dim=[1, 2, 3]).mean() * (gamma / 2) * r1_every).backward()
            opt_d.step()
        g.zero_grad(set_to_none=True)
        d.requires_grad_(False)
        sp(-d(g(torch.randn(batch, nz)))).mean().backward()       # -log sigmoid(D(G(z)))
        d.requires_grad_(True)
        opt_g.step()
        count[0] += 1

    return batch, step


# ---- transgan32: the `transgan` variant at 32 pixels (its defaults), TransGAN's networks at small width ----

def transformer_block(dim, heads):
    """GanForge's TransformerEncoderLayer: pre-norm, GELU, MLP ratio 4, no dropout, batch first."""
    return nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)


def stage_heads(heads, dim):
    h = max(1, min(heads, dim // 2))
    while dim % h:
        h -= 1
    return h


class TransStage(nn.Module):
    def __init__(self, grid, dim, heads, depth, window):
        super().__init__()
        self.grid, self.window = grid, window
        self.pos = nn.Parameter(torch.randn(1, grid * grid, dim) * 0.02)
        self.blocks = nn.Sequential(*[transformer_block(dim, stage_heads(heads, dim)) for _ in range(depth)])

    def forward(self, x):                                     # (N, G*G, C)
        x = x + self.pos
        g, w, c = self.grid, self.window, x.shape[2]
        if w >= g:
            return self.blocks(x)
        n, k = x.shape[0], g // w                             # attention within w x w cells
        cells = x.reshape(n, k, w, k, w, c).permute(0, 1, 3, 2, 4, 5).reshape(n * k * k, w * w, c)
        cells = self.blocks(cells)
        return cells.reshape(n, k, k, w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(n, g * g, c)


class TransG(nn.Module):
    def __init__(self, nz=100, width=64, depths=(2, 1, 1), heads=4, window=8):
        super().__init__()
        self.width = width
        self.input = nn.Linear(nz, 64 * width)                # z -> 8 x 8 tokens
        self.stages = nn.ModuleList(TransStage(8 << s, width >> (2 * s), heads, d, window if (8 << s) > window else 8 << s)
                                    for s, d in enumerate(depths))
        self.to_image = nn.Linear(width >> (2 * (len(depths) - 1)), 1)

    def forward(self, z):
        n = z.shape[0]
        x = self.input(z).reshape(n, 64, self.width)
        for s, stage in enumerate(self.stages):
            if s > 0:                                         # pixel shuffle on the token grid: (N, HW, C) -> (N, 4HW, C/4)
                g, c = self.stages[s - 1].grid, x.shape[2]
                x = nn.functional.pixel_shuffle(x.transpose(1, 2).reshape(n, c, g, g), 2).reshape(n, c // 4, 4 * g * g).transpose(1, 2)
            x = stage(x)
        g = self.stages[-1].grid
        return torch.tanh(self.to_image(x)).transpose(1, 2).reshape(n, 1, g, g)


class TransD(nn.Module):
    def __init__(self, width=64, depth=2, heads=4, patch=4, size=32):
        super().__init__()
        self.patches = nn.Conv2d(1, width, patch, patch)
        self.cls = nn.Parameter(torch.randn(1, 1, width) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, (size // patch) ** 2 + 1, width) * 0.02)
        self.blocks = nn.Sequential(*[transformer_block(width, stage_heads(heads, width)) for _ in range(depth)])
        self.norm, self.head = nn.LayerNorm(width), nn.Linear(width, 1)

    def forward(self, x):
        t = self.patches(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls.expand(x.shape[0], -1, -1), t], 1) + self.pos
        return self.head(self.norm(self.blocks(t)[:, 0]))


def diff_augment(x):
    """translation (1/8), cutout (1/2), color, per image, differentiable in x (GanForge's DiffAugment)."""
    n, c, h, w = x.shape
    s = int(h * 0.125 + 0.5)
    dy, dx = torch.randint(-s, s + 1, (n,)), torch.randint(-s, s + 1, (n,))
    ys, xs = torch.arange(h).view(1, h, 1) - dy.view(n, 1, 1), torch.arange(w).view(1, 1, w) - dx.view(n, 1, 1)
    inside = ((ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)).float().view(n, 1, h * w)
    index = (ys.clamp(0, h - 1) * w + xs.clamp(0, w - 1)).view(n, 1, h * w).expand(n, c, h * w)
    x = (x.reshape(n, c, h * w).gather(2, index) * inside).reshape(n, c, h, w)
    side = int(h * 0.5 + 0.5)
    cy, cx = torch.randint(0, h + 1 - side % 2, (n, 1, 1)), torch.randint(0, w + 1 - side % 2, (n, 1, 1))
    ry, rx = torch.arange(h).view(1, h, 1) - (cy - side // 2), torch.arange(w).view(1, 1, w) - (cx - side // 2)
    hole = (ry >= 0) & (ry < side) & (rx >= 0) & (rx < side)
    x = x * (~hole).float().unsqueeze(1)
    x = x + (torch.rand(n, 1, 1, 1) - 0.5)
    m = x.mean(1, keepdim=True)
    x = (x - m) * (torch.rand(n, 1, 1, 1) * 2) + m
    m = x.mean([1, 2, 3], keepdim=True)
    return (x - m) * (torch.rand(n, 1, 1, 1) + 0.5) + m


def transgan32(gp=10.0, drift=0.001):
    nz, batch = 100, 32
    g, d = TransG(nz), TransD()
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.0, 0.99))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.0, 0.99))
    real = torch.rand(batch, 1, 32, 32) * 2 - 1

    def step():
        d.zero_grad(set_to_none=True)
        with torch.no_grad():
            fake = g(torch.randn(batch, nz))
        r, f = diff_augment(real), diff_augment(fake)
        out_r = d(r)
        loss = d(f).mean() - out_r.mean() + drift * out_r.square().mean()
        loss = loss + gradient_penalty(d, r, f, torch.rand(batch), gp)[0]
        loss.backward()
        opt_d.step()
        g.zero_grad(set_to_none=True)
        d.requires_grad_(False)
        (-d(diff_augment(g(torch.randn(batch, nz)))).mean()).backward()
        d.requires_grad_(True)
        opt_g.step()

    return batch, step


# ---- sngan28: wgangp28's networks, spectral norm on every critic layer, the hinge loss ----
def sn_critic28():
    d = critic28()
    for m in d.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.utils.spectral_norm(m)
    return d


def sngan28():
    nz, batch = 100, 64
    g, d = generator28(nz), sn_critic28()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, 1, 28, 28) * 2 - 1
    relu = nn.functional.relu

    def step():
        d.zero_grad(set_to_none=True)
        with torch.no_grad():
            fake = g(torch.randn(batch, nz))
        (relu(1 - d(real)).mean() + relu(1 + d(fake)).mean()).backward()   # hinge
        opt_d.step()
        g.zero_grad(set_to_none=True)
        d.requires_grad_(False)
        (-d(g(torch.randn(batch, nz))).mean()).backward()
        d.requires_grad_(True)
        opt_g.step()

    return batch, step


# ---- pix2pix32: the U-Net and the PatchGAN of the fixtures, with the U-Net's dropout ----
def pix2pix_unet(c_in, c_out, size=32, ngf=64, dropout=0.5):
    """GanForge's U-Net: the fixtures' network with dropout after the batch norm of the three innermost decoder layers."""
    depth = size.bit_length() - 1
    net = UNet(c_in, c_out, depth, ngf)
    block, level = net.model.inner, 1
    while block is not None:
        if level >= depth - 3:
            block.up.append(nn.Dropout(dropout))
        block, level = (block.inner if block.has_inner else None), level + 1
    return dcgan_init(net)


def pix2pix32(l1_weight=100.0):
    batch = 16
    g, d = pix2pix_unet(3, 3), dcgan_init(paired_patch_gan(6, 64, 1, instance=False))
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    a = torch.rand(batch, 3, 32, 32) * 2 - 1
    b = torch.rand(batch, 3, 32, 32) * 2 - 1
    bce, l1 = nn.BCEWithLogitsLoss(), nn.L1Loss()

    def step():
        d.zero_grad(set_to_none=True)
        with torch.no_grad():
            fake = g(a)
        r, f = d(torch.cat([a, b], 1)), d(torch.cat([a, fake], 1))
        (0.5 * (bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)))).backward()
        opt_d.step()
        g.zero_grad(set_to_none=True)
        d.requires_grad_(False)
        fake = g(a)
        out = d(torch.cat([a, fake], 1))
        (bce(out, torch.ones_like(out)) + l1_weight * l1(fake, b)).backward()
        d.requires_grad_(True)
        opt_g.step()

    return batch, step


# ---- srgan32: SRResNet of the fixtures, SRGAN's D, the built-in evaluator's features as the content network ----
def srgan_discriminator(c_in=3, size=32, width=64):
    m, c, side = [nn.Conv2d(c_in, width, 3, 1, 1), nn.LeakyReLU(0.2)], width, size
    for i in range(7):
        nxt, stride = width * (1 << ((i + 1) // 2)), 2 if i % 2 == 0 else 1
        m += [nn.Conv2d(c, nxt, 3, stride, 1, bias=False), nn.BatchNorm2d(nxt), nn.LeakyReLU(0.2)]
        side, c = (side + 1) // 2 if stride == 2 else side, nxt
    m += [nn.Flatten(), nn.Linear(c * side * side, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 1)]
    return nn.Sequential(*m)


class ContentFeatures(nn.Module):
    """GanForge's evaluator's conv 1 -> 32, BN, ReLU, max pool 2, conv 32 -> 64, BN, ReLU on the channels' mean (eval, frozen)."""
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(32, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        self.requires_grad_(False)
        self.eval()

    def forward(self, x):
        return self.net(x.mean(1, keepdim=True))


def srgan32(adversarial=1e-3):
    batch = 16
    g, d, features = SrResNet(3, 3, 4, 16, 64), srgan_discriminator(), ContentFeatures()
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.9, 0.999))
    lr = torch.rand(batch, 3, 8, 8) * 2 - 1
    hr = torch.rand(batch, 3, 32, 32) * 2 - 1
    bce = nn.BCEWithLogitsLoss()

    def step():
        d.zero_grad(set_to_none=True)
        with torch.no_grad():
            fake = g(lr)
        r, f = d(hr), d(fake)
        (bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f))).backward()
        opt_d.step()
        g.zero_grad(set_to_none=True)
        d.requires_grad_(False)
        fake = g(lr)
        with torch.no_grad():
            target = features(hr)
        out = d(fake)
        ((features(fake) - target).square().mean() + adversarial * bce(out, torch.ones_like(out))).backward()
        d.requires_grad_(True)
        opt_g.step()

    return batch, step


WORKLOADS = {"wgangp28": wgangp28, "cyclegan32": cyclegan32, "stylegan32": stylegan32, "transgan32": transgan32,
             "sngan28": sngan28, "pix2pix32": pix2pix32, "srgan32": srgan32}

# For generation alone (bench/peer_generate.py): each workload's generator and what it is fed for n samples. StyleGAN
# generates without style mixing, CycleGAN translates images of domain A (uniform in [-1, 1]), as GanForge's bench does.
GENERATORS = {
    "wgangp28": lambda: (generator28(100), lambda n: torch.randn(n, 100)),
    "cyclegan32": lambda: (resnet_generator(3, 3), lambda n: torch.rand(n, 3, 32, 32) * 2 - 1),
    "stylegan32": lambda: (StyleG(100, mixing=0.0), lambda n: torch.randn(n, 100)),
    "transgan32": lambda: (TransG(100), lambda n: torch.randn(n, 100)),
    "sngan28": lambda: (generator28(100), lambda n: torch.randn(n, 100)),
    "pix2pix32": lambda: (pix2pix_unet(3, 3), lambda n: torch.rand(n, 3, 32, 32) * 2 - 1),
    "srgan32": lambda: (SrResNet(3, 3, 4, 16, 64), lambda n: torch.rand(n, 3, 8, 8) * 2 - 1),
}


def bench(name, iters, warmup):
    if name not in WORKLOADS:
        raise SystemExit(f"peer_zoo: unknown workload '{name}'; known: {', '.join(WORKLOADS)}")
    batch, step = WORKLOADS[name]()
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    times.sort()
    med = times[len(times) // 2]
    return {"workload": name, "threads": torch.get_num_threads(), "batch": batch,
            "iters_per_s": round(1 / med, 3), "images_per_s": round(batch / med, 1)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for w in a.workloads.split(","):
        print(json.dumps(bench(w, a.iters, a.warmup)), flush=True)
