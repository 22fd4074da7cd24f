import sys; sys.path.insert(0,'/tmp/exp')
from common import *
from sklearn.linear_model import LogisticRegression
from sklearn.feature_extraction.text import TfidfVectorizer
from scipy.sparse import hstack, csr_matrix
d=json.load(open('/work/main/server/data/intents.json'))['intents']
X=[];Y=[]
for k,v in d.items():
    for t in v: X.append(t);Y.append(k)
ESC={'human_request','complaint','legal_threat','urgency'}
yb=np.array([y in ESC for y in Y])
XE=emb(X)
sets={s:load(FIX+s+'.jsonl') for s in ['dev','test','test2']}
def run(name, feat, C):
    clf=LogisticRegression(C=C,max_iter=3000,class_weight='balanced').fit(feat(X,XE),yb)
    res=[]
    for s,rows in sets.items():
        T=[r['text'] for r in rows]; p=clf.predict_proba(feat(T,emb(T)))[:,1]
        res.append(max((explicit_f1(rows,p>=th)[0],th) for th in [0.3,0.4,0.5,0.6,0.7,0.8]) if s=='dev' else None)
        if s=='dev': th=res[-1][1]
        else: res[-1]=explicit_f1(rows,p>=th)[0]
    print(name,C,'dev %.3f@%.1f'%res[0],'test %.3f test2 %.3f'%(res[1],res[2]))
tf=TfidfVectorizer(ngram_range=(1,2),min_df=1,sublinear_tf=True,lowercase=True).fit(X)
tfc=TfidfVectorizer(analyzer='char_wb',ngram_range=(2,5),min_df=2,sublinear_tf=True).fit(X)
for C in [0.3,1,3,10]:
    run('emb',lambda T,EE:EE,C)
    run('words',lambda T,EE:tf.transform(T),C)
    run('emb+words',lambda T,EE:hstack([csr_matrix(EE),tf.transform(T)]).tocsr(),C)
    run('emb+words+chars',lambda T,EE:hstack([csr_matrix(EE),tf.transform(T),tfc.transform(T)]).tocsr(),C)
