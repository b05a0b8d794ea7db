use mlp::prelude::*;

network! { pub Mnist< input(784); dense(300, relu); dense(10, softmax) > }

fn main() {
    let mut net = Mnist::seeded(0);
    let batch = Batch::<100>::zeros(32);
    net.predict(&batch);
    Layer::forward(&mut net, &batch, &mut Context::infer());
}
