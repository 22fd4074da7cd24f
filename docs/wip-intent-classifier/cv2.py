import sys, itertools; sys.path.insert(0,'/tmp/exp')
exec(open('/tmp/exp/cv.py').read().split('res=[]')[0])
from collections import defaultdict
# vote baseline on folds
Xex=[t for t,_ in EX]; Yex=np.array([y for _,y in EX]); XE=emb(Xex)
def vote(T,floor=0.45,k=5):
    S=emb(T)@XE.T; out=[]
    for i in range(S.shape[0]):
        nn=np.argsort(-S[i])[:k]; sims=np.maximum(S[i][nn],0); labs=Yex[nn]
        conf=np.clip((sims.max()-(floor-0.15))/0.15,0,1)
        out.append(sum(s for s,l in zip(sims,labs) if l!='none')/sims.sum()*conf)
    return np.array(out)
per=np.array([[explicit_f1(W[h],vote([r['text'] for r in W[h]])>=th)[0] for th in THS] for h in W])
m=per.mean(0); j=m.argmax(); print('vote cv %.3f @%.2f'%(m[j],THS[j]),per[:,j].round(3))
# context: previous turn text
def prevs(rows):
    out=[];last=None
    for r in rows:
        p=last if last and last[0]==r['conversation_id'] else None
        out.append(p[1] if p else '')
        last=(r['conversation_id'],r['text'])
    return out
extend([''])
def fitctx(train,C):
    X=[t for t,_,_ in train]; P=[p for _,p,_ in train]; Y=np.array([y for _,_,y in train])
    tf=TfidfVectorizer(ngram_range=(1,2),sublinear_tf=True).fit(X)
    tfc=TfidfVectorizer(analyzer='char_wb',ngram_range=(2,5),min_df=2,sublinear_tf=True).fit(X)
    def f(T):
        return hstack([csr_matrix(emb(T)),tf.transform(T),tfc.transform(T)])
    def feat(T,Pv):
        pe=emb(Pv).copy(); pe[[i for i,p in enumerate(Pv) if p=='']]=0
        return hstack([f(T),csr_matrix(pe)]).tocsr()
    clf=LogisticRegression(C=C,max_iter=5000).fit(feat(X,P),Y)
    esc=[list(clf.classes_).index(i) for i in ESCI]
    return lambda T,Pv: clf.predict_proba(feat(T,Pv))[:,esc].sum(1)
for C in [3,10]:
    per=[]
    for hold in W:
        train=[(t,'',y) for t,y in EX]+[(r['text'],p,i) for k,rs in W.items() if k!=hold for r,p in zip(rs,prevs(rs)) for i in (r['intents'] or ['none'])]
        sc=fitctx(train,C)([r['text'] for r in W[hold]],prevs(W[hold]))
        per.append([explicit_f1(W[hold],sc>=th)[0] for th in THS])
    per=np.array(per); m=per.mean(0); j=m.argmax(); print('ctx',C,'cv %.3f @%.2f'%(m[j],THS[j]),per[:,j].round(3),flush=True)
