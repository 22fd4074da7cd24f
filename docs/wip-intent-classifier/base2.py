import sys; sys.path.insert(0,'/tmp/exp')
from common import *
d=json.load(open('/work/main/server/data/intents.json'))['intents']
X=[];Y=[]
for k,v in d.items():
    for t in v: X.append(t);Y.append(k)
XE=emb(X); Y=np.array(Y)
ESC={'human_request','complaint','legal_threat','urgency','cancel_refund'}
def vote(S,floor,k=5):
    out=[]
    for i in range(S.shape[0]):
        nn=np.argsort(-S[i])[:k]; sims=np.maximum(S[i][nn],0); labs=Y[nn]
        conf=np.clip((sims.max()-(floor-0.15))/0.15,0,1) if floor else 1
        out.append(sum(s for s,l in zip(sims,labs) if l in ESC)/sims.sum()*conf)
    return np.array(out)
for s in ['dev','test','test2']:
    rows=load(FIX+s+'.jsonl'); Q=emb([r['text'] for r in rows]); S=Q@XE.T
    for fl in [0.45,None]:
        v=vote(S,fl)
        print(s,'floor',fl,' '.join('th%.1f: %.3f'%(th,explicit_f1(rows,v>=th)[0]) for th in [0.6,0.7,0.8]))
